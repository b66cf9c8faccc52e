#!/usr/bin/env bash
# Container start-to-exit latency of `true` in busybox: berth's runtime
# (natively, as root) vs `runc run` on the same unpacked rootfs vs
# `docker run --rm` of the same image on the machine's Docker Engine; then
# 50 containers started at once (total time, agent and monitor memory).
# crun refuses hybrid cgroup hosts; it is measured only where it runs.
# Usage: sudo scripts/bench-containers.sh [RUNS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH_BENCH=1 BERTH_BENCH_N=${1:-30} go test -count=1 -v -timeout 30m -run '^TestBenchCompare$' ./runtime/container |
  grep -E 'BENCH|runc|crun|docker|^(ok|FAIL|---)'
