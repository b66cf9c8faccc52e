#!/usr/bin/env bash
# Rewrites the versions in scripts/iso/packages to apt's current candidates
# (run `apt-get update` first). The kernel line follows linux-image-amd64 to
# the real kernel package it depends on. Review the diff, then `make iso`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list=$here/packages
kernel=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kernel" ] || { echo "pin: apt knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
tmp=$(mktemp)
while IFS= read -r line; do
  read -r pkg _ <<<"$line" || true
  case "$pkg" in
    ''|'#'*) echo "$line"; continue ;;
    linux-image-*) pkg=$kernel ;;
  esac
  ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "pin: apt has no candidate for $pkg" >&2; rm -f "$tmp"; exit 1; }
  echo "$pkg $ver"
done <"$list" >"$tmp"
mv "$tmp" "$list"
git -C "$here" diff --stat -- packages 2>/dev/null || true
