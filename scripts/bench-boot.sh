#!/usr/bin/env bash
# Measures berth-os boots under QEMU TCG: the median of N boots (default 5)
# from QEMU start to SSH answering, and the floor: the time the same kernel
# takes to reach init (-kernel/-initrd with an init that powers off).
# Usage: scripts/bench-boot.sh [N]   (after `make iso`)
set -euo pipefail
cd "$(dirname "$0")/.."
BERTH_BOOT_BENCH=${1:-5} go test -count=1 -v -timeout 90m -run '^(TestKernelToInit|TestBootBench)$' ./internal/berthos |
  grep -E 'median|boot|run [0-9]|^(ok|FAIL|---)'
