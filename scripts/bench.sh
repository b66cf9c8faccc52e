#!/usr/bin/env bash
# make bench: measures the QEMU machine lifecycle and writes the figures
# into BENCHMARKS.md (its "Machines" section; other sections are kept):
#   - create-to-SSH-ready, median of 3 creates (TCG unless BERTH_QEMU_ACCEL);
#   - boot-to-SSH of an existing machine (`berth start` after a stop), the
#     ISO's own boot time that create is compared with;
#   - `berth ls` with 10 running machines, median of 5;
#   - `berth ssh NAME true` against OpenSSH's ssh with the same key, median
#     of 10 each.
# Uses its own store (a temporary BERTH_HOME) and removes every machine it
# made, also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
berth=$repo/bin/berth
export BERTH_HOME=${BENCH_HOME:-$(mktemp -d /tmp/berth-bench.XXXXXX)}
export BERTH_QEMU_ACCEL=${BERTH_QEMU_ACCEL:-tcg}
mem=${BENCH_MEMORY:-512}
machines=${BENCH_MACHINES:-10} # how many machines ls lists
out=$repo/BENCHMARKS.md

cleanup() {
  "$berth" rm -f -y $("$berth" ls -q 2>/dev/null) >/dev/null 2>&1 || true
  rm -rf "$BERTH_HOME"
}
trap cleanup EXIT

now() { date +%s%N; }
# ms CMD...: runs CMD quietly and prints how many milliseconds it took.
ms() {
  local t0; t0=$(now)
  "$@" >/dev/null
  echo $(( ($(now) - t0) / 1000000 ))
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
sec() { awk -v m="$1" 'BEGIN {printf "%.1f s", m/1000}'; }
create() { "$berth" create -q -d qemu --qemu-cpus 1 --qemu-memory "$mem" --qemu-disk-size 2000 "$1"; }

echo "bench: store $BERTH_HOME, accel $BERTH_QEMU_ACCEL, machines of $mem MB"
creates=()
for i in 1 2 3; do
  t=$(ms create "bench$i")
  echo "bench: create bench$i to SSH ready: $(sec "$t")"
  creates+=("$t")
done
create_med=$(printf '%s\n' "${creates[@]}" | median)

boots=()
for i in 1 2 3; do
  "$berth" stop bench1 >/dev/null
  t=$(ms "$berth" start bench1)
  echo "bench: start bench1 to SSH ready: $(sec "$t")"
  boots+=("$t")
done
boot_med=$(printf '%s\n' "${boots[@]}" | median)

for i in $(seq 4 "$machines"); do # one after the other: the host is shared
  create "bench$i"
done
n=$("$berth" ls -q | wc -l)
lss=()
for i in 1 2 3 4 5; do lss+=("$(ms "$berth" ls)"); done
ls_med=$(printf '%s\n' "${lss[@]}" | median)
running=$("$berth" ls --filter state=Running -q | wc -l)
echo "bench: berth ls with $n machines ($running running): ${ls_med} ms"

dir=$BERTH_HOME/machines/bench1
port=$("$berth" inspect -f '{{.Driver.SSHPort}}' bench1)
sshopts=(-i "$dir/id_ed25519" -p "$port" -o IdentitiesOnly=yes -o BatchMode=yes
  -o UserKnownHostsFile="$dir/known_hosts" -o StrictHostKeyChecking=yes)
ssh "${sshopts[@]}" root@127.0.0.1 true # fails here when the pinned key is not what OpenSSH sees
bs=(); os=()
for i in $(seq 10); do
  bs+=("$(ms "$berth" ssh bench1 -- true)")
  os+=("$(ms ssh "${sshopts[@]}" root@127.0.0.1 true)")
done
b_med=$(printf '%s\n' "${bs[@]}" | median)
o_med=$(printf '%s\n' "${os[@]}" | median)
echo "bench: berth ssh true ${b_med} ms, OpenSSH ssh true ${o_med} ms"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
section=$(cat <<MD
<!-- begin machines (scripts/bench.sh) -->
## Machines (QEMU driver)

Measured by \`make bench\` (scripts/bench.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):
$(uname -sr), $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB,
$(qemu-system-x86_64 --version | head -1), accelerator $BERTH_QEMU_ACCEL,
machines of 1 CPU and $mem MB, $("$berth" version 2>/dev/null | head -1).

| what | figure | target |
|---|---|---|
| create to ready: SSH up, agent provisioned and healthy (median of 3: $(printf '%s ' "${creates[@]}")ms) | $(sec "$create_med") | |
| boot to SSH ready, \`berth start\` of a stopped machine (median of 3: $(printf '%s ' "${boots[@]}")ms) | $(sec "$boot_med") | |
| create / boot | $(ratio "$create_med" "$boot_med") | at most 1.5 |
| \`berth ls\` with $n machines, $running running (median of 5) | ${ls_med} ms | under 300 ms |
| \`berth ssh bench1 -- true\` (median of 10) | ${b_med} ms | |
| OpenSSH \`ssh ... true\`, same key and VM (median of 10) | ${o_med} ms | |
| berth ssh / OpenSSH | $(ratio "$b_med" "$o_med") | at most 1.2 |
<!-- end machines -->
MD
)
if [ -f "$out" ] && grep -q '<!-- begin machines' "$out"; then
  awk -v s="$section" '
    /<!-- begin machines/ {print s; skip=1; next}
    /<!-- end machines -->/ {skip=0; next}
    !skip {print}' "$out" > "$out.tmp"
else
  { [ -f "$out" ] && cat "$out" || printf '# Benchmarks\n\nFigures measured by `make bench`; each section names its machine and date.\n'; printf '\n%s\n' "$section"; } > "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "bench: wrote $out"
