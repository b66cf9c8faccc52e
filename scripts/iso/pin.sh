#!/usr/bin/env bash
# Rewrites the versions in scripts/iso/packages to apt's current candidates
# (run `apt-get update` first). The kernel lines follow linux-image-ARCH to
# the real kernel package it depends on. A package used by both ISOs is
# pinned at its amd64 candidate (Debian builds one version for both).
# Review the diff, then `make iso`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
list=$here/packages
# kernel_of ARCH: the kernel package linux-image-ARCH depends on.
kernel_of() { apt-cache depends "linux-image-$1:$1" 2>/dev/null | awk '/Depends: linux-image-/ {sub(/:.*/, "", $2); print $2; exit}'; }
tmp=$(mktemp)
while IFS= read -r line; do
  read -r pkg _ only <<<"$line" || true
  case "$pkg" in ''|'#'*) echo "$line"; continue ;; esac
  arch=${only:-amd64}
  case "$pkg" in
    linux-image-*)
      pkg=$(kernel_of "$arch")
      [ -n "$pkg" ] || { echo "pin: apt knows no linux-image-$arch (dpkg --add-architecture arm64; apt-get update)" >&2; rm -f "$tmp"; exit 1; } ;;
  esac
  ver=$(apt-cache policy "$pkg:$arch" | awk '/Candidate:/ {print $2}')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "pin: apt has no candidate for $pkg" >&2; rm -f "$tmp"; exit 1; }
  echo "$pkg $ver${only:+ $only}"
done <"$list" >"$tmp"
mv "$tmp" "$list"
git -C "$here" diff --stat -- packages 2>/dev/null || true
