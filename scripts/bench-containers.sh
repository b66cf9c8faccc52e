#!/usr/bin/env bash
# Container start-to-exit latency of `true` in busybox: berth's runtime
# (natively, as root; with Docker's seccomp profile and unconfined) vs
# `runc run` and `crun run` (without and with Docker's seccomp profile) on
# the same unpacked rootfs, taking turns run by run, then `docker run --rm`
# of the same image on the machine's Docker Engine; then 50 containers started at once
# (total time, agent and monitor memory). crun refuses this host's hybrid
# cgroup layout, so it runs in a private mount namespace with cgroup2 at
# /sys/fs/cgroup and no cgroup manager (see crunScript in
# runtime/container/bench_linux_test.go). `make bench` installs runc and crun.
# Usage: sudo scripts/bench-containers.sh [RUNS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH_BENCH=1 BERTH_BENCH_N=${1:-30} go test -count=1 -v -timeout 30m -run '^TestBenchCompare$' ./runtime/container |
  grep -E 'BENCH|runc|crun|docker|^(ok|FAIL|---)'
