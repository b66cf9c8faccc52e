#!/usr/bin/env bash
# Measures berth-os boots under QEMU TCG: the median of N boots (default 5)
# from QEMU start to SSH answering, and the floor: the time the same kernel
# takes to reach init (-kernel/-initrd with an init that powers off).
# Usage: scripts/bench-boot.sh [N]   (after `make iso`)
set -euo pipefail
cd "$(dirname "$0")/.."
go test -count=1 -timeout 90m -run '^$' -bench '^Benchmark(KernelToInit|Boot)$' -benchtime "${1:-5}x" ./internal/berthos |
  grep -E 'median|boot|run [0-9]|^(Benchmark|ok|FAIL|---)'
