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
# Usage: sudo scripts/bench-containers.sh [ROUNDS]   (default 8: 32 runs of
# each runtime, blocks of 4 taking turns; 8 of docker run)
set -euo pipefail
cd "$(dirname "$0")/.."
{
  go test -count=1 -timeout 30m -run '^$' -bench '^BenchmarkCompare$' -benchtime "${1:-8}x" ./runtime/container
  go test -count=1 -timeout 30m -run '^$' -bench '^BenchmarkStartConcurrent$' -benchtime 1x ./runtime/container
} | grep -E 'BENCH|runc|crun|docker|^(Benchmark|ok|FAIL|---)'
