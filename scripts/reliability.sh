#!/usr/bin/env bash
# The reliability suite: soak (BERTH_SOAK_CYCLES cycles, default 50),
# concurrency (also 4 QEMU creates at once), faults (agent SIGKILLed
# mid-operation, the registry cut mid-pull, a full disk, berth SIGKILLed
# at each create/start step and during stop, a QEMU machine powered off
# hard mid-write and mid-pull), container escapes, the machine's security
# (one QEMU machine) and the fuzz targets (FUZZTIME each, default 10s). Each
# test writes its row; the table goes to stdout and RELIABILITY.md.
# `make soak` runs it with 500 cycles and a minute per fuzz target.
# Usage: BERTH_SOAK_CYCLES=500 FUZZTIME=60s scripts/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."
rows=$(mktemp -d)
trap 'rm -rf "$rows"' EXIT
export BERTH_RELIABILITY_DIR=$rows BERTH_TEST_NOSKIP=1
export BERTH_SOAK_CYCLES=${BERTH_SOAK_CYCLES:-50}
status=0
go test -count=1 -timeout 120m \
  -run '^(TestSoak|TestConcurrency|TestAgentKilledMidOperation|TestRegistryCutMidPull|TestDiskFull)$' ./runtime/server || status=1
go test -count=1 -timeout 30m \
  -run '^(TestLeakedFdAsWorkingDir|TestMaskedPathsRaceWithDevNull|TestContainerCannotReachTheKernel)$' ./runtime/container || status=1
go test -count=1 -timeout 60m \
  -run '^(TestSharedFoldersOnQEMU|TestImageCommandsOnQEMU|TestQEMUCLIKilledAtEveryStep|TestQEMUParallelCreates|TestVirtualBoxParallelCreates)$' ./cmd/berth || status=1
FUZZTIME=${FUZZTIME:-10s} scripts/fuzz.sh || status=1
go run ./internal/reliability/cmd/reliability-table -dir "$rows" -o RELIABILITY.md || status=1
exit $status
