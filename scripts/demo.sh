#!/usr/bin/env bash
# make demo: creates the QEMU machine "demo" (or reuses it when it exists),
# runs `uname -a` in it over SSH, loads the hello image into it and runs it,
# and prints how long each step took.
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
  timings+=("$(printf '%-36s %6.1fs' "$label" "$(( $(now) - t0 ))e-9")")
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

# An image to run. This machine has no internet, so the demo builds the
# small "hello" image offline (from Go code and Debian's busybox-static) and
# loads it into the machine; with a registry, `berth run` pulls instead.
images=build/demo-images
if [ ! -s "$images/hello.docker.tar" ]; then
  step "build the hello image" go run ./internal/testimages/cmd/testimages save "$images" hello >/dev/null
fi
step "berth load -m $name -i hello.tar" "$berth" load -m "$name" -i "$images/hello.docker.tar"
step "berth run -m $name --rm hello" "$berth" run -m "$name" --rm hello

echo
echo "timings:"
printf '  %s\n' "${timings[@]}"
echo
echo "next: $berth run -m $name -it busybox sh   (after: $berth load -m $name -i $images/busybox.docker.tar)"
echo "      $berth ssh $name    (a shell in the machine)"
echo "      $berth ls           (all machines)"
echo "      $berth rm $name     (remove it)"
