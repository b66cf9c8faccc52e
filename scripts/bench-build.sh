#!/usr/bin/env bash
# Image builds: the same Dockerfile and context (300 files and an 8 MB one,
# RUN shell work, metadata steps) built by berth's agent (natively, in the
# test process, as scripts/bench-containers.sh runs containers) and by this
# host's Docker Engine with its classic builder (DOCKER_BUILDKIT=0 docker
# build): cold (--no-cache), a cached rebuild, a rebuild after one copied
# file changed; the median of 3 rounds each, taking turns. The host engine
# gets a base image and the built images for the run; they are removed
# after (rmi of its own images only: the host's build cache is never
# pruned). Figures go to BENCHMARKS.md (its "Image builds" section).
# Usage: sudo scripts/bench-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=$repo/BENCHMARKS.md
lines=$(BERTH_BENCH_BUILD=1 go test -count=1 -timeout 30m -run '^TestBuildBench$' -v ./runtime/server | grep '^BENCH build' || true)
if [ -z "$lines" ]; then
  echo "bench-build: the benchmark printed no figures" >&2
  exit 1
fi
echo "$lines"
sec() { awk -v m="$1" 'BEGIN {printf "%.2f s", m/1000}'; }
rows=$(echo "$lines" | sed -E 's/^BENCH build "([^"]*)" berth_ms=([0-9]+) docker_ms=([0-9]+).*/\1|\2|\3/' |
  while IFS='|' read -r what b d; do
    printf '| %s | %s | %s | %s |\n' "$what" "$(sec "$b")" "$(sec "$d")" "$(awk -v a="$b" -v b="$d" 'BEGIN {if (b < 1) b = 1; printf "%.2fx", a/b}')"
  done)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
section=$(cat <<MD
<!-- begin build (scripts/bench-build.sh) -->
## Image builds (classic builder, runtime/server TestBuildBench)

Measured by \`make bench\` (scripts/bench-build.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'):
$(uname -sr), $(nproc) cores ($cpu), Docker Engine $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?').
The same Dockerfile (FROM, ENV, WORKDIR, COPY of 300 files, COPY of an 8 MB
file, RUN of 200 file writes, LABEL, EXPOSE, COPY of a script, RUN, CMD) and
context, built with \`docker build -q\` by berth's agent running natively
and by the host's Docker Engine with \`DOCKER_BUILDKIT=0\`; median of 3
rounds, the two taking turns. Wall time of the docker CLI, context sending
included.

| build | berth | Docker (classic) | berth / Docker |
|---|---|---|---|
$rows
<!-- end build -->
MD
)
if [ -f "$out" ] && grep -q '<!-- begin build' "$out"; then
  awk -v s="$section" '
    /<!-- begin build/ {print s; skip=1; next}
    /<!-- end build -->/ {skip=0; next}
    !skip {print}' "$out" > "$out.tmp"
else
  { [ -f "$out" ] && cat "$out" || printf '# Benchmarks\n'; printf '\n%s\n' "$section"; } > "$out.tmp"
fi
mv "$out.tmp" "$out"
echo "bench-build: wrote $out"
