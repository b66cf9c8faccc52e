#!/usr/bin/env bash
# Runs every fuzz target of berth's parsers of outside data for FUZZTIME
# each (default 30s). Crashers go to the target's testdata/fuzz, where
# `go test` runs them as test cases from then on: commit them with the fix.
# With BERTH_RELIABILITY_DIR set, each target writes a row for
# RELIABILITY.md (internal/reliability).
# Usage: FUZZTIME=60s scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
targets=(
  "./runtime/layer FuzzUnpack layer tarballs"
  "./internal/runspec FuzzPortSpec -p specs"
  "./runtime/server FuzzBindSpec -v specs"
  "./runtime/server FuzzCreateBody container create bodies"
  "./runtime/server FuzzQueryFilters query filters and times"
  "./internal/seed FuzzSeedConfig seed configs"
  "./internal/machine FuzzMachineName machine names"
  "./runtime/build FuzzParseDockerfile Dockerfiles"
  "./internal/teamenv FuzzParse berth.yaml files"
  "./internal/converge FuzzLoad compose files"
)
failed=0
for t in "${targets[@]}"; do
  read -r pkg name what <<<"$t"
  start=$(date +%s)
  dir=$pkg/testdata/fuzz/$name
  before=$(ls "$dir" 2>/dev/null | wc -l || true)
  echo "fuzz $name ($pkg) for $fuzztime"
  if out=$(go test -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" "$pkg" 2>&1); then ok=1; else ok=0; failed=1; fi
  execs=$(echo "$out" | sed -n 's/.*execs: \([0-9]*\).*/\1/p' | tail -1)
  if [ "$ok" = 1 ]; then echo "$out" | tail -3; else echo "$out" | tail -40; fi
  if [ -n "${BERTH_RELIABILITY_DIR:-}" ]; then
    mkdir -p "$BERTH_RELIABILITY_DIR"
    notes="no panic, every refusal a clear error, accepted input valid"
    if [ "$ok" != 1 ]; then
      notes="FAILED: the fuzzing run failed (its output is in the make log)"
      [ "$(ls "$dir" 2>/dev/null | wc -l || true)" -gt "$before" ] && notes="FAILED: crasher kept under $dir"
    fi
    printf '{"area":"fuzz","what":"%s (%s)","runs":%s,"faults":0,"survived":0,"lost":0,"notes":"%s","test":"%s","seconds":%s}\n' \
      "$what" "$name" "${execs:-0}" "$notes" "$name" "$(($(date +%s) - start))" >"$BERTH_RELIABILITY_DIR/fuzz-$name.json"
  fi
done
exit $failed
