#!/usr/bin/env bash
# make demo: creates the QEMU machine "demo" (or reuses it when it exists),
# runs `uname -a` in it over SSH and prints how long each step took.
# Expects bin/berth and the berth-os ISO (make build iso); run through
# `make demo`, which installs QEMU and builds both first.
set -euo pipefail
cd "$(dirname "$0")/.."
berth=${BERTH:-bin/berth}
name=${BERTH_DEMO_MACHINE:-demo}

now() { date +%s%N; }
timings=()
# step LABEL CMD...: runs CMD and records how long it took.
step() {
  local label=$1; shift
  local t0; t0=$(now)
  "$@"
  timings+=("$(printf '%-28s %6.1fs' "$label" "$(( $(now) - t0 ))e-9")")
}

state=$("$berth" status "$name" 2>/dev/null || true)
case "$state" in
  Running)
    echo "machine $name exists and runs: reusing it" ;;
  Stopped|Paused|Saved|Error)
    echo "machine $name exists ($state): starting it"
    step "berth start $name" "$berth" start "$name" ;;
  "")
    if "$berth" ls -q | grep -qx "$name"; then
      echo "machine $name is broken (see \`$berth ls\`): removing it and creating it again"
      "$berth" rm -f -y "$name"
    fi
    step "berth create -d qemu $name" "$berth" create -d qemu "$name" ;;
  *)
    echo "machine $name is $state: wait until it has settled, then run make demo again" >&2
    exit 1 ;;
esac

step "berth ssh $name -- uname -a" "$berth" ssh "$name" -- uname -a

echo
echo "timings:"
printf '  %s\n' "${timings[@]}"
echo
echo "next: $berth ssh $name    (a shell in the machine)"
echo "      $berth ls           (all machines)"
echo "      $berth rm $name     (remove it)"
