#!/usr/bin/env bash
# Puts Debian's static i386 busybox (package busybox-static:i386) into a
# cache outside the clone, keyed by version, and prints its path: the
# runtime tests run it as a 32-bit image, which the seccomp profile must
# allow as Docker's does. Only on amd64 hosts; adds the i386 architecture
# to dpkg to download the package (nothing of it is installed).
# Usage: scripts/busybox-i386.sh
set -euo pipefail
[ "$(dpkg --print-architecture)" = amd64 ] || exit 0
cache=${BERTH_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-test}
out="$cache/busybox-i386/busybox"
if [ ! -x "$out" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    dpkg --add-architecture i386
    apt-get update -qq || true # an unrelated list that fails is no reason to stop
  fi
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  chmod 755 "$work" # apt's download user writes there
  (cd "$work" && apt-get download -qq busybox-static:i386 >/dev/null 2>&1) ||
    { apt-get update -qq || true; (cd "$work" && apt-get download -qq busybox-static:i386); }
  dpkg-deb -x "$work"/busybox-static_*_i386.deb "$work/x"
  mkdir -p "$(dirname "$out")"
  cp "$work/x/bin/busybox" "$out.tmp"
  mv "$out.tmp" "$out"
fi
echo "$out"
