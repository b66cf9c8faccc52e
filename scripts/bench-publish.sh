#!/usr/bin/env bash
# make bench: HTTP requests per second from this computer through a
# published port: wrk on 127.0.0.1 against busybox httpd in a container of
# a QEMU machine (run -d -p 80: QEMU user-net host forward -> the agent's
# port proxy -> the container), and, for scale, against the same busybox
# httpd running natively on the host. busybox httpd closes every
# connection, so each request is a new TCP connection through the whole
# path. Figures go to BENCHMARKS.md (its "Published ports" section).
# Uses its own store (a temporary BERTH_HOME) and removes what it made,
# also when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
berth=$repo/bin/berth
export BERTH_HOME=${BENCH_HOME:-$(mktemp -d /tmp/berth-bench-publish.XXXXXX)}
export BERTH_QEMU_ACCEL=${BERTH_QEMU_ACCEL:-tcg}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-8}
work=$(mktemp -d /tmp/berth-bench-publish-work.XXXXXX)
out=$repo/BENCHMARKS.md
name=publish
native=

cleanup() {
  [ -n "$native" ] && kill "$native" 2>/dev/null || true
  "$berth" rm -f -y "$name" >/dev/null 2>&1 || true
  rm -rf "$BERTH_HOME" "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench-publish: wrk is missing (scripts/deps.sh bench)" >&2; exit 1; }
now() { date +%s%N | cut -c1-13; }
# rps URL: wrk's requests/s against URL.
rps() { wrk -t1 -c"$conns" -d"${secs}s" "$1" | awk '/^Requests\/sec:/ {printf "%.0f", $2}'; }

load=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench-publish: store $BERTH_HOME, accel $BERTH_QEMU_ACCEL, wrk $conns connections for ${secs}s, load average $load"
"$berth" create -q -d qemu --qemu-cpus "${BENCH_CPUS:-1}" --qemu-memory "${BENCH_MEMORY:-768}" \
  --qemu-disk-size 2000 --no-share "$name"
go run ./internal/testimages/cmd/testimages save "$work" busybox >/dev/null
"$berth" load -q -m "$name" -i "$work/busybox.docker.tar" >/dev/null

# -p 80 lets the machine pick the host port; `berth port` says which.
page='mkdir -p /w && echo hello > /w/index.html && exec httpd -f -p 80 -h /w'
t0=$(now)
"$berth" run -m "$name" -d --name web -p 80 busybox sh -c "$page" >/dev/null
t1=$(now)
hostport=$("$berth" port -m "$name" web 80/tcp | sed 's/.*://')
url=http://127.0.0.1:$hostport/
for _ in $(seq 100); do curl -fsS -o /dev/null "$url" && break; sleep 0.2; done
t2=$(now)
echo "bench-publish: run -d -p took $((t1 - t0)) ms, first answer on 127.0.0.1:$hostport after $((t2 - t0)) ms"
through=$(rps "$url")
echo "bench-publish: through the published port: $through req/s"

# Where the time goes, inside the machine: 50 sequential wget GETs in the
# container straight to httpd, and in the machine through the agent's port
# proxy (times from /proc/uptime, 10 ms steps).
loop='read s _ </proc/uptime; i=0; while [ $i -lt 50 ]; do wget -q -O /dev/null "$1"; i=$((i+1)); done; read e _ </proc/uptime; echo "$s $e" | awk "{printf \"%.1f\", (\$2 - \$1) * 1000 / 50}"'
in_ctr=$("$berth" exec -m "$name" web sh -c "$loop" sh http://127.0.0.1:80/)
in_vm=$("$berth" ssh "$name" -- sh -c "$loop" sh "http://127.0.0.1:$hostport/")
echo "bench-publish: per GET in the container: $in_ctr ms; in the machine through the port proxy: $in_vm ms"

mkdir -p "$work/w" && echo hello > "$work/w/index.html"
busybox=$(command -v busybox)
nport=$(( $(od -An -N2 -tu2 /dev/urandom) % 10000 + 40000 ))
"$busybox" httpd -f -p "127.0.0.1:$nport" -h "$work/w" & native=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done
direct=$(rps "http://127.0.0.1:$nport/")
echo "bench-publish: busybox httpd natively on the host: $direct req/s"

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
section=$(cat <<MD
<!-- begin publish (scripts/bench-publish.sh) -->
## Published ports (QEMU driver)

Measured by \`make bench\` (scripts/bench-publish.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):
$(uname -sr), $(nproc) cores ($cpu), $(qemu-system-x86_64 --version | head -1),
accelerator $BERTH_QEMU_ACCEL, a machine of ${BENCH_CPUS:-1} CPU and ${BENCH_MEMORY:-768} MB,
host load average $load at the start.
\`wrk -t1 -c$conns -d${secs}s\` on this computer against busybox httpd, which
closes every connection (so each request is a new connection).

| what | figure |
|---|---|
| \`berth run -d -p 80\` (create, host forward through QMP, start) | $((t1 - t0)) ms |
| from \`run\` to the first answer on 127.0.0.1:$hostport | $((t2 - t0)) ms |
| HTTP req/s through the published port (host -> QEMU user-net -> agent proxy -> container) | $through |
| HTTP req/s, the same busybox httpd natively on the host | $direct |
| one wget GET in the container, straight to httpd (mean of 50, sequential) | $in_ctr ms |
| one wget GET in the machine through the agent's port proxy (mean of 50) | $in_vm ms |
<!-- end publish -->
MD
)
if [ -f "$out" ] && grep -q '<!-- begin publish' "$out"; then
  awk -v s="$section" '
    /<!-- begin publish/ {print s; skip=1; next}
    /<!-- end publish -->/ {skip=0; next}
    !skip {print}' "$out" > "$out.tmp"
else
  { [ -f "$out" ] && cat "$out" || printf '# Benchmarks\n'; printf '\n%s\n' "$section"; } > "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "bench-publish: wrote $out"
