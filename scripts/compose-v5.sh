#!/usr/bin/env bash
# Builds docker compose v5 (github.com/docker/compose/v5/cmd) from the Go
# module proxy into a cache outside the clone, keyed by version, and prints
# the binary's path. Rebuilt only when missing. `go install ...@version` is
# refused because compose's go.mod has exclude directives, so it downloads
# the module and builds in its folder (about 150 s on 2 cores the first time).
# Usage: scripts/compose-v5.sh [VERSION]   (default v5.6.0)
set -euo pipefail
version=${1:-v5.6.0}
cache=${BERTH_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-test}
out="$cache/compose-$version/docker-compose"
if [ ! -x "$out" ]; then
  dir=$(go mod download -json "github.com/docker/compose/v5@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  if [ -z "$dir" ]; then
    echo "compose-v5: go mod download gave no folder for github.com/docker/compose/v5@$version" >&2
    exit 1
  fi
  mkdir -p "$(dirname "$out")"
  (cd "$dir" && CGO_ENABLED=0 go build -trimpath \
    -ldflags "-w -X github.com/docker/compose/v5/internal.Version=$version" \
    -o "$out.tmp" ./cmd) >&2
  mv "$out.tmp" "$out"
fi
echo "$out"
