#!/usr/bin/env bash
# Team environments: `berth up --wait` of examples/team (two QEMU machines,
# db + app) cold (no machines) and warm (machines stopped by berth down),
# then `berth plan` on the converged environment (median of N runs;
# target < 500 ms). The test images come from a registry started here on
# 127.0.0.1, which the machines see at 10.0.2.2.
# Usage: scripts/bench-team.sh [N]   (needs build/berth-os.iso, bin/berth)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
berth=$PWD/bin/berth
export BERTH_HOME=${BERTH_BENCH_HOME:-$PWD/build/bench-team-home}
export BERTH_QEMU_ISO=$(readlink -f build/berth-os.iso) BERTH_QEMU_ACCEL=${BERTH_QEMU_ACCEL:-tcg} BERTH_DRIVER=qemu
work=$(mktemp -d)
regdir=$work/registry
export BERTH_REGISTRY_DIR=$regdir BERTH_REGISTRY_PORT=${BERTH_REGISTRY_PORT:-5055}
cleanup() { "$berth" down --destroy -f "$work/team/berth.yaml" >/dev/null 2>&1 || true
  scripts/registry.sh stop >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
eval "$(scripts/registry.sh start)"
go run ./internal/testimages/cmd/testimages push "$BERTH_REGISTRY" busybox >/dev/null
cp -r examples/team "$work/team"
sed -i "s/10.0.2.2:5000/10.0.2.2:$BERTH_REGISTRY_PORT/g" "$work/team/berth.yaml" "$work/team/app/compose.yaml" "$work/team/db/compose.yaml"
file=$work/team/berth.yaml

ms() { date +%s%3N; }
t0=$(ms); "$berth" up --wait -f "$file" >/dev/null 2>"$work/up.log" || { cat "$work/up.log"; exit 1; }; cold=$(( $(ms) - t0 ))
curl -fsS http://127.0.0.1:48080/cgi-bin/db >/dev/null
"$berth" down -f "$file" >/dev/null 2>&1
t0=$(ms); "$berth" up --wait -f "$file" >/dev/null 2>"$work/up.log" || { cat "$work/up.log"; exit 1; }; warm=$(( $(ms) - t0 ))
"$berth" plan -f "$file" | grep -q "Nothing to do"
plans=()
for _ in $(seq "$n"); do t0=$(ms); "$berth" plan -f "$file" >/dev/null; plans+=($(( $(ms) - t0 ))); done
median=$(printf '%s\n' "${plans[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
echo "team environment (examples/team, 2 QEMU machines, accel $BERTH_QEMU_ACCEL, $(nproc) host CPUs):"
printf '  berth up --wait, cold (no machines):       %6.1f s\n' "$(awk "BEGIN{print $cold/1000}")"
printf '  berth up --wait, warm (machines stopped):  %6.1f s\n' "$(awk "BEGIN{print $warm/1000}")"
printf '  berth plan, converged (median of %d):      %6d ms (target < 500 ms)\n' "$n" "$median"
