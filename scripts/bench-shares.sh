#!/usr/bin/env bash
# make bench: shared-folder speed. One QEMU machine shares a host folder
# (--share, virtio-9p); over `berth ssh` the same work runs in that folder
# and on the machine's own data disk (/var/lib/berth):
#   - write: dd of BENCH_SHARE_MB MB (default 128) from /dev/zero, fsync'd;
#   - read: dd of that file to /dev/null, after dropping the guest's caches
#     (the host's are kept: the file is in its page cache, for both);
#   - create: 10,000 empty files in 100 folders;
#   - walk: `find | wc -l` of them, after dropping the guest's caches.
# For scale, the write and read also run natively on the host in the shared
# folder. Figures go to BENCHMARKS.md (its "Shared folders" section).
# Uses its own store (a temporary BERTH_HOME) and removes what it made,
# also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
berth=$repo/bin/berth
export BERTH_HOME=${BENCH_HOME:-$(mktemp -d /tmp/berth-bench-shares.XXXXXX)}
export BERTH_QEMU_ACCEL=${BERTH_QEMU_ACCEL:-tcg}
mb=${BENCH_SHARE_MB:-128}
files=10000
share=$(mktemp -d /tmp/berth-bench-share.XXXXXX)
out=$repo/BENCHMARKS.md
name=shares

cleanup() {
  "$berth" rm -f -y "$name" >/dev/null 2>&1 || true
  rm -rf "$BERTH_HOME" "$share"
}
trap cleanup EXIT

echo "bench-shares: store $BERTH_HOME, accel $BERTH_QEMU_ACCEL, shared folder $share"
"$berth" create -q -d qemu --qemu-cpus "${BENCH_CPUS:-1}" --qemu-memory "${BENCH_MEMORY:-768}" \
  --qemu-disk-size 2000 --share "$share" "$name"

# The guest side: `sh -s DIR MB FILES` prints "write_ms read_ms create_ms
# walk_ms found" for DIR. Times come from /proc/uptime (10 ms steps).
guest=$(cat <<'SH'
set -e
dir=$1/berth-bench; mb=$2; n=$3
now() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
rm -rf "$dir"; mkdir -p "$dir/tree"
t0=$(now); dd if=/dev/zero of="$dir/big" bs=1M count="$mb" conv=fsync 2>/dev/null; t1=$(now)
drop
t2=$(now); dd if="$dir/big" of=/dev/null bs=1M 2>/dev/null; t3=$(now)
t4=$(now)
d=0
while [ "$d" -lt 100 ]; do
  mkdir "$dir/tree/d$d"; cd "$dir/tree/d$d"
  f=0
  while [ "$f" -lt $((n / 100)) ]; do : >"f$f"; f=$((f + 1)); done
  d=$((d + 1))
done
cd /; t5=$(now)
drop
t6=$(now); found=$(find "$dir/tree" -type f | wc -l); t7=$(now)
rm -rf "$dir"
echo $((t1 - t0)) $((t3 - t2)) $((t5 - t4)) $((t7 - t6)) "$found"
SH
)
run() { "$berth" ssh "$name" -- sh -s "$1" "$mb" "$files" <<<"$guest"; }

read -r sw sr sc sf sn < <(run "$share")
echo "bench-shares: shared folder: write ${sw} ms, read ${sr} ms, create ${sc} ms, walk ${sf} ms ($sn files)"
read -r dw dr dc df dn < <(run /var/lib/berth)
echo "bench-shares: data disk:     write ${dw} ms, read ${dr} ms, create ${dc} ms, walk ${df} ms ($dn files)"
[ "$sn" = "$files" ] && [ "$dn" = "$files" ] || { echo "bench-shares: the walks found $sn and $dn files, want $files" >&2; exit 1; }

# The host, natively, in the shared folder.
ms_now() { date +%s%N | cut -c1-13; }
t0=$(ms_now); dd if=/dev/zero of="$share/big" bs=1M count="$mb" conv=fsync 2>/dev/null; t1=$(ms_now)
t2=$(ms_now); dd if="$share/big" of=/dev/null bs=1M 2>/dev/null; t3=$(ms_now)
rm -f "$share/big"
hw=$((t1 - t0)) hr=$((t3 - t2))
echo "bench-shares: host natively: write ${hw} ms, read ${hr} ms"

mbs() { awk -v mb="$mb" -v ms="$1" 'BEGIN {if (ms < 1) ms = 1; printf "%.0f MB/s", mb * 1000 / ms}'; }
sec() { awk -v m="$1" 'BEGIN {printf "%.2f s", m/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b < 1) b = 1; printf "%.1fx", a/b}'; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
section=$(cat <<MD
<!-- begin shares (scripts/bench-shares.sh) -->
## Shared folders (QEMU driver, virtio-9p)

Measured by \`make bench\` (scripts/bench-shares.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):
$(uname -sr), $(nproc) cores ($cpu), $(qemu-system-x86_64 --version | head -1),
accelerator $BERTH_QEMU_ACCEL, a machine of ${BENCH_CPUS:-1} CPU and ${BENCH_MEMORY:-768} MB
sharing a host folder with \`--share\` (9p: msize=512000, cache=mmap,
security_model=none). Each figure is one run over \`berth ssh\`; the guest's
caches are dropped before reads and walks, the host's are not (the file read
is in the host's page cache, for the share, the data disk's qcow2 file and the
host alike).

| what | shared folder | machine's disk (/var/lib/berth) | time, shared / disk |
|---|---|---|---|
| write $mb MB (dd bs=1M, fsync) | $(mbs "$sw") ($(sec "$sw")) | $(mbs "$dw") ($(sec "$dw")) | $(ratio "$sw" "$dw") |
| read $mb MB (dd bs=1M) | $(mbs "$sr") ($(sec "$sr")) | $(mbs "$dr") ($(sec "$dr")) | $(ratio "$sr" "$dr") |
| create $files empty files (100 folders) | $(sec "$sc") | $(sec "$dc") | $(ratio "$sc" "$dc") |
| walk them (\`find -type f \| wc -l\`) | $(sec "$sf") | $(sec "$df") | $(ratio "$sf" "$df") |

The host itself, natively in the shared folder: write $(mbs "$hw"), read $(mbs "$hr").
<!-- end shares -->
MD
)
if [ -f "$out" ] && grep -q '<!-- begin shares' "$out"; then
  awk -v s="$section" '
    /<!-- begin shares/ {print s; skip=1; next}
    /<!-- end shares -->/ {skip=0; next}
    !skip {print}' "$out" > "$out.tmp"
else
  { [ -f "$out" ] && cat "$out" || printf '# Benchmarks\n'; printf '\n%s\n' "$section"; } > "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "bench-shares: wrote $out"
