#!/usr/bin/env bash
# make bench: how fast a QEMU machine gets ready and how little it costs
# when idle, side by side with the floor, into BENCHMARKS.md (its "Ready"
# section; other sections are kept). In one run:
#   - `berth create` to ready (SSH + agent answering + host agent), median
#     of N, every step with its duration (from `create --json`);
#   - `berth start` of a stopped machine to ready, median of N, every step;
#   - the floor: the same kernel and initramfs booted by QEMU itself with
#     nothing else (-bios/-kernel/-initrd/-append as berth passes them, the same
#     seed CD and disk; not the ISO, so no agent runs), time to the first
#     byte of the SSH banner; first boot (blank disk) and later boots;
#   - idle: QEMU's CPU time over BENCH_IDLE_SECONDS (default 60) of a
#     berth machine with no containers and of the floor VM, measured at the
#     same time;
#   - `berth run --rm hello` through the host agent, median of 10.
# Every figure comes with the host's load average and the accelerator.
# Where KVM works: BERTH_QEMU_ACCEL=kvm scripts/bench-ready.sh
# Usage: scripts/bench-ready.sh [N]   (after `make build iso`)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
berth=$repo/bin/berth
runs=${1:-3}
idle=${BENCH_IDLE_SECONDS:-60}
export BERTH_HOME=${BENCH_HOME:-$(mktemp -d /tmp/berth-ready.XXXXXX)}
export BERTH_QEMU_ACCEL=${BERTH_QEMU_ACCEL:-tcg}
cpus=${BENCH_CPUS:-2} # the QEMU driver's default (--qemu-cpus)
mem=${BENCH_MEMORY:-512}
iso=$repo/build/berth-os.iso
out=$repo/BENCHMARKS.md
work=$(mktemp -d /tmp/berth-floor.XXXXXX)
images=$repo/build/demo-images

floor_pid=
cleanup() {
  [ -n "$floor_pid" ] && kill "$floor_pid" 2>/dev/null
  "$berth" rm -f -y $("$berth" ls -q 2>/dev/null) >/dev/null 2>&1 || true
  rm -rf "$BERTH_HOME" "$work"
}
trap cleanup EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
sec() { awk -v m="$1" 'BEGIN {printf "%.1f s", m/1000}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
say() { echo "bench-ready: $*" >&2; }

# events FILE: the steps of a --json run ("step|took_ms", one a line) and
# the time to ready ("ready|at_ms").
steps_of() { sed -n 's/.*"event":"end","step":"\([^"]*\)","at_ms":[0-9]*,"took_ms":\([0-9]*\).*/\1|\2/p' "$1"; }
ready_of() { sed -n 's/.*"event":"ready","at_ms":\([0-9]*\).*/\1/p' "$1"; }
# phases FILE: the steps as "step 1.23 s; step 0.10 s".
phases() { steps_of "$1" | awk -F'|' '{printf "%s%s %.2f s", sep, $1, $2/1000; sep="; "}'; }

[ -s "$images/hello.docker.tar" ] || go run ./internal/testimages/cmd/testimages save "$images" hello >/dev/null

say "store $BERTH_HOME, accel $BERTH_QEMU_ACCEL, machines of $cpus CPU and $mem MB, load $(load)"
create_args=(-d qemu --qemu-iso "$iso" --qemu-cpus "$cpus" --qemu-memory "$mem" --qemu-disk-size 2000 --no-share)

# ---- create ---------------------------------------------------------------------
creates=(); create_loads=(); agent_starts=()
for i in $(seq "$runs"); do
  create_loads+=("$(load)")
  "$berth" create --json "${create_args[@]}" "bench$i" >"$work/create$i.json"
  t=$(ready_of "$work/create$i.json")
  creates+=("$t")
  say "create bench$i to ready: $(sec "$t") ($(phases "$work/create$i.json")); load $(load)"
  # The agent shipped on the ISO serves from the first boot on; an upload
  # would have replaced and restarted it: count its starts.
  agent_starts+=("$("$berth" ssh "bench$i" -- grep -c "starting /var/lib/berth/bin/berth-agent serve" /var/lib/berth/log/berth-agent.log)")
  [ "$i" = 1 ] || "$berth" rm -f -y "bench$i" >/dev/null
done
create_med=$(printf '%s\n' "${creates[@]}" | median)
for i in $(seq "$runs"); do [ "${creates[$((i - 1))]}" = "$create_med" ] && create_phases=$(phases "$work/create$i.json") && break; done || true


# ---- start ----------------------------------------------------------------------
starts=()
for i in $(seq "$runs"); do
  "$berth" stop bench1 >/dev/null
  "$berth" start --json bench1 >"$work/start$i.json"
  t=$(ready_of "$work/start$i.json")
  starts+=("$t")
  say "start bench1 to ready: $(sec "$t") ($(phases "$work/start$i.json")); load $(load)"
done
start_med=$(printf '%s\n' "${starts[@]}" | median)
for i in $(seq "$runs"); do [ "${starts[$((i - 1))]}" = "$start_med" ] && start_phases=$(phases "$work/start$i.json") && break; done || true

# ---- the floor: the same kernel and initramfs, QEMU alone -----------------------
pid=$(cat "$BERTH_HOME/machines/bench1/qemu.pid")
mapfile -d '' qargs <"/proc/$pid/cmdline"
kernel= initrd= append= bios=()
for ((j = 0; j < ${#qargs[@]}; j++)); do
  case "${qargs[$j]}" in
    -bios) bios=(-bios "${qargs[$((j + 1))]}") ;;
    -kernel) kernel=${qargs[$((j + 1))]} ;;
    -initrd) initrd=${qargs[$((j + 1))]} ;;
    -append) append=${qargs[$((j + 1))]} ;;
  esac
done
[ -n "$kernel" ] || { say "bench1 does not boot with -kernel (is --qemu-boot iso set?)"; exit 1; }
mkdir -p "$work/seed"
printf 'instance-id: floor\nlocal-hostname: floor\n' >"$work/seed/meta-data"
printf '#cloud-config\nhostname: floor\n' >"$work/seed/user-data"
xorriso -as mkisofs -quiet -o "$work/seed.iso" -V cidata -J -R "$work/seed" 2>/dev/null
qemu-img create -q -f qcow2 "$work/disk.qcow2" 2000M
port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((20000 + RANDOM % 20000)); done
mon=$((port + 1))

# banner_wait T0: milliseconds from T0 until the SSH banner's first byte on $port.
# QEMU's user network accepts a connection before the guest listens and,
# while the guest has no address yet, holds it until its SYN is sent again
# (after 1 s, 3 s...): one attempt at a time would see the banner up to a
# second late. So a new attempt starts every 100 ms beside those that
# hang (as berth's own wait does every 250 ms), and each that gets the
# banner notes when.
banner_wait() {
  local t0=$1 n=0 f got
  rm -f "$work"/banner.*
  while :; do
    n=$((n + 1))
    (timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && [ \"\$(head -c 4 <&3)\" = SSH- ] && date +%s%N" >"$work/banner.$n" 2>/dev/null &)
    sleep 0.1
    got=
    for f in "$work"/banner.*; do
      [ -s "$f" ] && { [ -z "$got" ] || [ "$(cat "$f")" -lt "$got" ]; } && got=$(cat "$f")
    done
    if [ -n "$got" ]; then
      echo $(( (got - t0) / 1000000 ))
      return
    fi
    [ $(( ($(now) - t0) / 1000000000 )) -lt 600 ] || { say "the floor VM did not answer in 600 s"; exit 1; }
  done
}
floor_boot() {
  local t0; t0=$(now)
  rm -f "$work/floor.pid"
  qemu-system-x86_64 -name berth-floor -machine pc -accel "$BERTH_QEMU_ACCEL" -smp "$cpus" -m "$mem" \
    -nodefaults -no-user-config -display none -serial "file:$work/floor.log" \
    -drive "file=$work/disk.qcow2,format=qcow2,if=virtio,discard=unmap" \
    -drive "file=$work/seed.iso,format=raw,readonly=on,if=virtio" \
    "${bios[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=n0 -device virtio-rng-pci \
    -monitor "tcp:127.0.0.1:$mon,server=on,wait=off" -pidfile "$work/floor.pid" -daemonize
  floor_pid=$(cat "$work/floor.pid")
  floor_ms=$(banner_wait "$t0")
}
# floor_stop: the ACPI power button (berth-os syncs and unmounts its data
# disk), a kill after 120 s.
floor_stop() {
  local i=0
  (exec 3<>"/dev/tcp/127.0.0.1/$mon" && echo system_powerdown >&3 && sleep 1) 2>/dev/null || true
  while kill -0 "$floor_pid" 2>/dev/null && [ $i -lt 2400 ]; do sleep 0.05; i=$((i + 1)); done
  kill "$floor_pid" 2>/dev/null || true
  while kill -0 "$floor_pid" 2>/dev/null; do sleep 0.05; done
  floor_pid=
}

floor_boot
floor_first=$floor_ms
say "floor, first boot (blank disk) to the SSH banner: $(sec "$floor_first"); load $(load)"
floors=()
for i in $(seq "$runs"); do
  floor_stop
  floor_boot
  t=$floor_ms
  floors+=("$t")
  say "floor boot to the SSH banner: $(sec "$t"); load $(load)"
done
floor_med=$(printf '%s\n' "${floors[@]}" | median)

# ---- idle: both VMs, the same seconds -------------------------------------------
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
sleep 30 # both settle (the floor just booted: background modules)
b0=$(ticks "$pid"); f0=$(ticks "$floor_pid"); idle_load=$(load)
sleep "$idle"
b1=$(ticks "$pid"); f1=$(ticks "$floor_pid")
pct() { awk -v t="$1" -v hz="$hz" -v s="$idle" 'BEGIN {printf "%.2f", t / hz / s * 100}'; }
idle_b=$(pct $((b1 - b0))); idle_f=$(pct $((f1 - f0)))
idle_ratio=$(awk -v a="$idle_b" -v b="$idle_f" 'BEGIN {if (b > 0) printf "%.2f", a/b; else print "n/a"}')
say "idle over ${idle}s: berth machine ${idle_b}% of a core, floor ${idle_f}% (ratio $idle_ratio); load $idle_load"
floor_stop

# ---- berth run --rm hello through the host agent ---------------------------------
"$berth" load -m bench1 -i "$images/hello.docker.tar" >/dev/null
"$berth" run -m bench1 --rm hello >/dev/null # warm-up
rs=()
for i in $(seq 10); do
  t0=$(now)
  "$berth" run -m bench1 --rm hello >/dev/null
  rs+=("$(( ($(now) - t0) / 1000000 ))")
done
run_med=$(printf '%s\n' "${rs[@]}" | median)
say "berth run --rm hello: median ${run_med} ms (${rs[*]}); load $(load)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
section=$(cat <<MD
<!-- begin ready (scripts/bench-ready.sh) -->
## Ready: create, start, idle (QEMU driver)

Measured by \`make bench\` (scripts/bench-ready.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):
$(uname -sr), $(nproc) cores, $(qemu-system-x86_64 --version | head -1),
accelerator **$BERTH_QEMU_ACCEL**, machines of $cpus CPU and $mem MB, $("$berth" version 2>/dev/null | head -1).
Host load average at the creates: ${create_loads[*]}; during the idle
measurement: $idle_load. The floor is the same kernel and initramfs booted by
QEMU alone (\`-bios/-kernel/-initrd/-append\` as berth passes them, the same seed CD
and disk, no ISO CD so no agent runs), timed to the first byte of the SSH banner.

| what | figure | floor | target |
|---|---|---|---|
| \`berth create\` to ready: SSH, agent, host agent (median of $runs: ${creates[*]} ms) | $(sec "$create_med") | first boot $(sec "$floor_first") | at most 8 s |
| \`berth start\` of a stopped machine to ready (median of $runs: ${starts[*]} ms) | $(sec "$start_med") | $(sec "$floor_med") (median of $runs: ${floors[*]} ms) | at most 6 s |
| agent starts in each create (1: the agent the ISO ships served at once; an upload restarts it) | ${agent_starts[*]} | | 1 each |
| idle: QEMU's CPU over ${idle} s, no containers | ${idle_b}% of a core | ${idle_f}% | at most 1.5x the floor (here ${idle_ratio}x) |
| \`berth run --rm hello\` through the host agent (median of 10: ${rs[*]} ms) | ${run_med} ms | | at most 300 ms |

Steps of the median create: $create_phases.

Steps of the median start: $start_phases.
<!-- end ready -->
MD
)
if [ -f "$out" ] && grep -q '<!-- begin ready' "$out"; then
  awk -v s="$section" '
    /<!-- begin ready/ {print s; skip=1; next}
    /<!-- end ready -->/ {skip=0; next}
    !skip {print}' "$out" >"$out.tmp"
else
  { [ -f "$out" ] && cat "$out" || printf '# Benchmarks\n'; printf '\n%s\n' "$section"; } >"$out.tmp"
fi
mv "$out.tmp" "$out"
say "wrote $out"
