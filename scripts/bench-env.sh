#!/usr/bin/env bash
# The docker CLI through a machine's host agent (berth env) against the same
# docker CLI on this computer's own Docker Engine, in one run: `docker run
# --rm busybox true` and `docker ps`, medians of N runs each, alternating;
# then `berth ls` with running QEMU machines, counting the TCP connections
# it opens (none to the machines' SSH ports when their host agents run).
# Usage: scripts/bench-env.sh [N]   (needs build/berth-os.iso, bin/berth)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10}
berth=$PWD/bin/berth
export BERTH_HOME=${BERTH_BENCH_HOME:-$PWD/build/bench-env-home}
iso=$PWD/build/berth-os.iso
images=build/demo-images
[ -s "$images/busybox.docker.tar" ] || go run ./internal/testimages/cmd/testimages save "$images" busybox >/dev/null
host_docker=/usr/local/bin/docker; [ -x "$host_docker" ] || host_docker=docker

machines=(benv1 benv2 benv3)
cleanup() { for m in "${machines[@]}"; do "$berth" rm -f -y "$m" >/dev/null 2>&1 || true; done
  if [ -n "${loaded:-}" ]; then "$host_docker" rmi berthbench/busybox >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT
# A signal ends the script through its EXIT trap, so the image it lent the
# host engine is removed also when it is stopped early.
trap 'exit 130' INT TERM HUP
for m in "${machines[@]}"; do
  "$berth" status "$m" >/dev/null 2>&1 || "$berth" create -q -d qemu --qemu-iso "$iso" --qemu-accel "${BERTH_QEMU_ACCEL:-tcg}" \
    --qemu-cpus 1 --qemu-memory 768 --qemu-disk-size 1000 --no-share "$m" >/dev/null
done
m=${machines[0]}
eval "$("$berth" env --shell bash "$m")"
berth_host=$DOCKER_HOST
docker() { DOCKER_HOST=$berth_host "$host_docker" "$@"; }
docker load -i "$images/busybox.docker.tar" >/dev/null
docker tag busybox:latest berthbench/busybox:latest

engine=no
if env -u DOCKER_HOST "$host_docker" version >/dev/null 2>&1; then
  engine=yes
  if ! env -u DOCKER_HOST "$host_docker" image inspect berthbench/busybox >/dev/null 2>&1; then
    loaded=1
    env -u DOCKER_HOST "$host_docker" load -i "$images/busybox.docker.tar" >/dev/null
    env -u DOCKER_HOST "$host_docker" tag busybox:latest berthbench/busybox:latest
    env -u DOCKER_HOST "$host_docker" rmi busybox:latest >/dev/null
  fi
fi

ms() { local t0; t0=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
run_b=(); run_d=(); ps_b=(); ps_d=()
docker run --rm berthbench/busybox true # warm-up
for _ in $(seq "$n"); do
  run_b+=("$(ms docker run --rm berthbench/busybox true)")
  ps_b+=("$(ms docker ps)")
  if [ $engine = yes ]; then
    run_d+=("$(ms env -u DOCKER_HOST "$host_docker" run --rm berthbench/busybox true)")
    ps_d+=("$(ms env -u DOCKER_HOST "$host_docker" ps)")
  fi
done
rb=$(printf '%s\n' "${run_b[@]}" | median); pb=$(printf '%s\n' "${ps_b[@]}" | median)
echo "bench-env: docker run --rm busybox true through berth's host agent: median $rb ms (n=$n)"
echo "bench-env: docker ps through berth's host agent: median $pb ms"
if [ $engine = yes ]; then
  rd=$(printf '%s\n' "${run_d[@]}" | median); pd=$(printf '%s\n' "${ps_d[@]}" | median)
  echo "bench-env: the same on this computer's Docker Engine: run $rd ms, ps $pd ms; ratio run $(awk "BEGIN{printf \"%.1f\", $rb/$rd}")x, ps $(awk "BEGIN{printf \"%.1f\", $pb/$pd}")x"
fi

# ls with three running machines: the TCP connections it opens.
ports=$(for mm in "${machines[@]}"; do "$berth" inspect --format '{{.Driver.SSHPort}}' "$mm"; done | paste -sd'|')
t0=$(date +%s%N)
conns=$(strace -f -e trace=connect -o /dev/stdout "$berth" ls 2>/dev/null | grep -cE "sin_port=htons\(($ports)\)" || true)
echo "bench-env: berth ls with ${#machines[@]} running QEMU machines: $(( ($(date +%s%N) - t0) / 1000000 )) ms under strace, $conns connections to their SSH ports"
