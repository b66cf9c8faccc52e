#!/usr/bin/env bash
# Makes dist/: berth for macOS (amd64, arm64), Linux (amd64, arm64) and
# Windows (amd64), each embedding the berth-os ISO of its architecture
# (scripts/embed-iso.sh put them in internal/isoembed/files), the two
# ISOs, and SHA256SUMS. Run by `make release` (which builds what it needs).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
: "${VERSION:?set VERSION}" "${LDFLAGS:?set LDFLAGS}"
budget=$((50 * 1000 * 1000)) # bytes, per binary
rm -rf dist.tmp && mkdir dist.tmp
for t in darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64; do
  os=${t%/*} arch=${t#*/} ext=
  [ "$os" = windows ] && ext=.exe
  out=dist.tmp/berth-$os-$arch$ext
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -ldflags "$LDFLAGS" -o "$out" ./cmd/berth
  size=$(wc -c <"$out")
  echo "release: ${out#dist.tmp/}: $size bytes"
  [ "$size" -le "$budget" ] || { echo "release: ${out#dist.tmp/} is over the 50 MB budget" >&2; exit 1; }
done
for arch in amd64 arm64; do cp "build/berth-os-$arch.iso" "dist.tmp/berth-os-$arch.iso"; done
# Each ISO also gets its own checksum file: berth downloads URL.sha256.
(cd dist.tmp && for f in berth-os-*.iso; do sha256sum "$f" >"$f.sha256"; done &&
  sha256sum berth-* >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
rm -rf dist && mv dist.tmp dist
echo "release: dist/ for $VERSION"
