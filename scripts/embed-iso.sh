#!/usr/bin/env bash
# Puts the berth-os ISOs of build/ (made by `make iso`) into
# internal/isoembed/files/ARCH/, gzip-compressed, with their SHA-256 and
# volume id: the berth built for ARCH embeds that architecture's ISO.
# An ISO that is missing is left out (that berth downloads it instead);
# one already in place and up to date is kept.
# Usage: scripts/embed-iso.sh [--require] [ARCH...]   (default: amd64 arm64)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
require=
[ "${1:-}" = --require ] && { require=1; shift; }
[ $# -gt 0 ] || set -- amd64 arm64
for arch in "$@"; do
  iso=$repo/build/berth-os-$arch.iso
  dir=$repo/internal/isoembed/files/$arch
  if [ ! -f "$iso" ]; then
    [ -z "$require" ] || { echo "embed-iso: $iso is missing (run make iso)" >&2; exit 1; }
    rm -f "$dir/berth-os.iso.gz" "$dir/berth-os.iso.sha256"
    echo "embed-iso: no $iso: the berth for $arch will download its berth-os ISO" >&2
    continue
  fi
  sum=$(sha256sum "$iso" | cut -d' ' -f1)
  volid=$(dd if="$iso" bs=1 skip=$((16 * 2048 + 40)) count=32 status=none | tr -d ' \0')
  if [ -f "$dir/berth-os.iso.gz" ] && [ "$(cat "$dir/berth-os.iso.sha256" 2>/dev/null)" = "$sum $volid" ]; then
    continue
  fi
  gzip -9 -n -c "$iso" >"$dir/berth-os.iso.gz.tmp"
  mv "$dir/berth-os.iso.gz.tmp" "$dir/berth-os.iso.gz"
  echo "$sum $volid" >"$dir/berth-os.iso.sha256"
  echo "embed-iso: $arch: $volid, $(wc -c <"$dir/berth-os.iso.gz") bytes compressed"
done
