#!/usr/bin/env bash
# Installs, from Debian's packages, what berth's build, tests and demo need.
# Idempotent: installs only what is missing.
# Usage: scripts/deps.sh [build|iso|test|demo|bench|lint]
set -euo pipefail
what=${1:-test}

# Packages per purpose. Each line: package name. Keep them sorted.
build_pkgs=(ca-certificates git make)
# The ISO's contents are downloaded from Debian by scripts/iso/build.sh; these
# are only the tools that build it.
# binutils (readelf), grub-common (grub-mkimage), dosfstools and mtools make
# the UEFI boot image.
iso_pkgs=(binutils cpio dosfstools grub-common kmod mtools xorriso zstd)
# qemu-system-arm and qemu-efi-aarch64 (edk2) run the arm64 berth-os.
vm_pkgs=(ovmf qemu-efi-aarch64 qemu-system-arm qemu-system-x86 qemu-utils)
# gcc and libc6-dev: the race detector `make test` runs with needs cgo.
# nftables: the soak test counts the rules the bridge network leaves.
# xz-utils: the kernelimage tests compress kernels as the kernel build does.
test_pkgs=(busybox-static curl debootstrap docker-compose docker-registry docker.io dropbear-bin e2fsprogs gcc libc6-dev nftables openssh-client openssh-server skopeo xz-utils)
# The runtimes `make bench` compares berth's container start with, and the
# HTTP load tool of scripts/bench-publish.sh.
bench_pkgs=(crun runc strace wrk)

pkgs=("${build_pkgs[@]}")
case "$what" in
  build | lint) ;;
  iso) pkgs+=("${iso_pkgs[@]}") ;;
  demo) pkgs+=("${iso_pkgs[@]}" "${vm_pkgs[@]}" openssh-client) ;;
  test) pkgs+=("${iso_pkgs[@]}" "${vm_pkgs[@]}" "${test_pkgs[@]}") ;;
  bench) pkgs+=("${iso_pkgs[@]}" "${vm_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [build|iso|test|demo|bench|lint]" >&2; exit 2 ;;
esac

# The arm64 ISO is built from Debian's arm64 packages: apt must know them.
if [ "$what" != build ] && [ "$what" != lint ] && ! [[ " $(dpkg --print-foreign-architectures | tr "\n" " ") " = *" arm64 "* ]] &&
  [ "$(dpkg --print-architecture)" != arm64 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth-os for arm64 needs apt to know arm64 packages: as root, dpkg --add-architecture arm64 && apt-get update" >&2
    exit 1
  fi
  echo "adding dpkg's arm64 architecture (for berth-os's arm64 packages)"
  dpkg --add-architecture arm64
  apt-get update -qq
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "berth needs these Debian packages: ${missing[*]}" >&2
    echo "install them as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  stamp=/var/lib/apt/periodic/berth-update-stamp
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +720)" ]; then
    apt-get update -qq
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Go tools the lint target uses, at pinned versions (`make lint` finds them
# in $(go env GOPATH)/bin). A different version installed there is replaced.
staticcheck_version=v0.8.2 # staticcheck 2026.1.x, for Go 1.26
if [ "$what" = test ] || [ "$what" = bench ] || [ "$what" = lint ]; then
  sc="$(go env GOPATH)/bin/staticcheck"
  if [ ! -x "$sc" ] || [ "$(go version -m "$sc" | awk '$1 == "mod" { print $3 }')" != "$staticcheck_version" ]; then
    echo "installing: staticcheck $staticcheck_version"
    go install "honnef.co/go/tools/cmd/staticcheck@$staticcheck_version"
  fi
fi
# docker compose v5 for the runtime/server tests, built once into a cache
# outside the clone (scripts/compose-v5.sh).
if [ "$what" = test ] || [ "$what" = bench ]; then
  "$(dirname "$0")/compose-v5.sh" >/dev/null
fi
# A static i386 busybox for the 32-bit seccomp test, into the same cache
# (scripts/busybox-i386.sh).
if [ "$what" = test ] || [ "$what" = bench ]; then
  "$(dirname "$0")/busybox-i386.sh" >/dev/null
fi
