#!/usr/bin/env bash
# Builds the berth-os ISO (build/berth-os.iso and its .sha256) from the
# Debian packages pinned in scripts/iso/packages. Skips the work when no
# input changed since the last build (BERTH_ISO_FORCE=1 rebuilds anyway).
# Needs: apt-get, dpkg-deb, cpio, zstd, kmod (depmod, modprobe), xorriso;
# `make iso` installs them (scripts/deps.sh iso).
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=$repo/build
cache=$build/iso-cache # downloaded packages and the unpacked kernel, kept between builds
work=$build/iso-work   # scratch, remade on every build
iso=$build/berth-os.iso
version=$(cat "$here/VERSION")
volid=berth-os-v$version

say() { echo "iso: $(date +%T) $*" >&2; }
die() { echo "iso: error: $*" >&2; exit 1; }

for tool in apt-get dpkg-deb cpio zstd depmod modprobe xorriso sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh iso installs the build tools)"
done

# Inputs: every file under scripts/iso (content and mode). The ISO is rebuilt
# when one changes.
inputs=$(cd "$here" && { find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -printf '%m %p\n' | sort; } | sha256sum | cut -d' ' -f1)
stamp=$build/berth-os.inputs
if [ "${BERTH_ISO_FORCE:-}" != 1 ] && [ -f "$iso" ] && [ -f "$iso.sha256" ] &&
  [ -f "$build/berth-os.manifest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  say "$iso is up to date ($volid)"
  exit 0
fi
rm -f "$stamp"

# ---- packages ---------------------------------------------------------------
mkdir -p "$cache/debs"
pins=() # "package version"
while read -r pkg ver rest; do
  case "$pkg" in ''|'#'*) continue ;; esac
  [ -n "$ver" ] && [ -z "$rest" ] || die "scripts/iso/packages: bad line \"$pkg $ver $rest\" (want: package version)"
  pins+=("$pkg $ver")
done <"$here/packages"

# deb_of PKG VER: the cached .deb of PKG at exactly VER, downloaded if needed.
updated=
deb_of() {
  local pkg=$1 ver=$2 deb="$cache/debs/${1}_${2//:/%3a}.deb" tmp
  if [ ! -f "$deb" ]; then
    tmp=$(mktemp -d "$cache/dl.XXXXXX")
    if ! (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$tmp/err"); then
      if [ -z "$updated" ] && [ "$(id -u)" = 0 ]; then
        say "apt-get download $pkg=$ver failed; refreshing apt's package lists and trying again"
        apt-get update -qq >&2 && updated=1
      fi
      if ! (cd "$tmp" && apt-get download -q "$pkg=$ver" >/dev/null 2>"$tmp/err"); then
        local avail
        avail=$(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); printf "%s%s", sep, $2; sep = ", "}')
        sed 's/^/  apt: /' "$tmp/err" | grep -v 'unsandboxed' >&2 || true
        rm -rf "$tmp"
        die "package $pkg version $ver (pinned in scripts/iso/packages) is not available from apt; available: ${avail:-none}. Pin an available version (scripts/iso/pin.sh pins apt's candidates) and rebuild."
      fi
    fi
    mv "$tmp"/*.deb "$deb"
    rm -rf "$tmp"
  fi
  local got
  got=$(dpkg-deb --showformat='${Package} ${Version}' -W "$deb")
  [ "$got" = "$pkg $ver" ] || die "$deb holds \"$got\", want \"$pkg $ver\" (remove it and rebuild)"
  echo "$deb"
}

rm -rf "$work"
mkdir -p "$work/stage" "$work/root"
stage=$work/stage # every package but the kernel, unpacked together
kpkg=
for pin in "${pins[@]}"; do
  read -r pkg ver <<<"$pin"
  deb=$(deb_of "$pkg" "$ver")
  case "$pkg" in
    linux-image-*) kpkg=$pkg kdeb=$deb ;;
    *) dpkg-deb -x "$deb" "$stage" ;;
  esac
done
[ -n "$kpkg" ] || die "scripts/iso/packages pins no linux-image-* package"

# The kernel package is large: unpack it once per version into the cache.
kver=${kpkg#linux-image-}
kroot=$cache/kernel-$(basename "$kdeb" .deb)
if [ ! -f "$kroot/.done" ]; then
  say "unpacking $kpkg"
  rm -rf "$kroot" && mkdir -p "$kroot"
  dpkg-deb -x "$kdeb" "$kroot"
  depmod -b "$kroot" "$kver"
  touch "$kroot/.done"
fi
[ -f "$kroot/boot/vmlinuz-$kver" ] || die "$kpkg has no boot/vmlinuz-$kver"

# ---- root file system ----------------------------------------------------------
root=$work/root
say "assembling the root file system"
# Merged /usr layout.
mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,share} \
  "$root"/{etc,proc,sys,dev,run,tmp,root,mnt,var/lib/berth,var/log}
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
chmod 1777 "$root/tmp"; chmod 0700 "$root/root"
# The kernel opens /dev/console for /init before anything is mounted.
[ "$(id -u)" = 0 ] || die "building the ISO needs root (device nodes in the initramfs)"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3

# put SRC DEST: copy a file from the stage (a package's path) into the root,
# replacing what is there (such as a busybox applet link, which is removed
# first so that cp never writes through it).
put() {
  [ -f "$stage/$1" ] || die "$1 is missing from the unpacked packages (check scripts/iso/packages)"
  mkdir -p "$(dirname "$root/$2")"
  rm -f "$root/$2"
  cp -L "$stage/$1" "$root/$2"
}

# busybox and its applets.
put bin/busybox usr/bin/busybox
"$root/usr/bin/busybox" --list-full | while read -r applet; do
  name=${applet##*/}
  # Relative links: an absolute one would point into the build host.
  case "$applet" in sbin/*|*/sbin/*) dir=usr/sbin to=../bin/busybox ;; *) dir=usr/bin to=busybox ;; esac
  [ -e "$root/$dir/$name" ] || [ -L "$root/$dir/$name" ] || ln -s "$to" "$root/$dir/$name"
done

# dropbear (sshd), OpenSSH's sftp-server where dropbear looks for it.
put usr/sbin/dropbear usr/sbin/dropbear
put usr/bin/dropbearkey usr/bin/dropbearkey
put usr/lib/openssh/sftp-server usr/lib/openssh/sftp-server
ln -s openssh/sftp-server "$root/usr/lib/sftp-server"

# e2fsprogs for the data disk.
for b in mke2fs e2fsck resize2fs tune2fs; do put "sbin/$b" "usr/sbin/$b"; done
ln -s mke2fs "$root/usr/sbin/mkfs.ext4"
put etc/mke2fs.conf etc/mke2fs.conf

# CA certificates as the usual bundle.
mkdir -p "$root/etc/ssl/certs"
find "$stage/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat >"$root/etc/ssl/certs/ca-certificates.crt"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] || die "ca-certificates holds no certificates"

# Shared libraries of every dynamic binary, found by the packaged loader
# (never the build host's libraries), and the loader itself.
loader=$stage/lib64/ld-linux-x86-64.so.2
[ -e "$loader" ] || die "libc6 has no /lib64/ld-linux-x86-64.so.2"
libpath=$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu
cp -L "$loader" "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
find "$root/usr" -type f -perm -u+x | while read -r bin; do
  head -c 4 "$bin" | grep -q ELF || continue
  # Dynamic executables name their loader (PT_INTERP) near the start.
  head -c 4096 "$bin" | grep -qa '/lib64/ld-linux-x86-64.so.2' || continue
  out=$("$loader" --inhibit-cache --library-path "$libpath" --list "$bin" 2>&1) ||
    die "listing the libraries of ${bin#"$root"/}: $out"
  echo "$out" | awk '/=>/ && $1 !~ /\// {print $1, $3}' | while read -r soname path; do
    case "$path" in
      "$stage"/*) cp -L "$path" "$root/usr/lib/x86_64-linux-gnu/$soname" ;;
      *) die "${bin#"$root"/} needs $soname, which no pinned package provides (found: $path); add its package to scripts/iso/packages" ;;
    esac
  done
done

# Kernel modules with their dependencies, and the index busybox modprobe reads.
moddir=lib/modules/$kver
mkdir -p "$root/usr/$moddir"
: >"$root/etc/modules"
: >"$root/etc/modules.later"
while read -r m when _; do
  case "$m" in ''|'#'*) continue ;; esac
  case "$when" in
    '') list=$root/etc/modules ;;
    later) list=$root/etc/modules.later ;;
    *) die "scripts/iso/modules: \"$m $when\": want a module name, optionally followed by \"later\"" ;;
  esac
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>&1) ||
    die "kernel module $m (scripts/iso/modules) is not in $kpkg: $deps"
  echo "$deps" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#"$kroot"/}; rel=${rel#usr/}
    mkdir -p "$root/usr/${rel%/*}"
    cp "$path" "$root/usr/$rel"
  done
  echo "$deps" | grep -q '^insmod' && echo "$m" >>"$list"
done <"$here/modules"
for f in modules.order modules.builtin modules.builtin.modinfo; do
  cp "$kroot/lib/modules/$kver/$f" "$root/usr/$moddir/"
done
depmod -b "$root/usr" "$kver"
# depmod -b ROOT looks in ROOT/lib/modules; the guest's /lib is /usr/lib.

# berth-os's own files: init, services, configuration.
cp -a --remove-destination "$here/rootfs/." "$root/"
cat >"$root/etc/os-release" <<OS
NAME="berth-os"
ID=berth-os
VERSION_ID=$version
VERSION="$version"
PRETTY_NAME="berth-os $version"
BUILD_ID=$kver
HOME_URL="https://github.com/berthvm/berth"
OS
ln -s ../etc/os-release "$root/usr/lib/os-release"

abs=$(find "$root" -type l -lname '/*' | head -n 3)
[ -z "$abs" ] || die "absolute symlinks in the root file system (they would resolve on the build host): $abs"

# ---- initramfs and ISO ----------------------------------------------------------
say "packing the initramfs"
cd_=$work/cd
mkdir -p "$cd_/boot" "$cd_/isolinux"
cp "$kroot/boot/vmlinuz-$kver" "$cd_/boot/vmlinuz"
(cd "$root" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -10 -T0 >"$cd_/boot/initrd.img"
cp "$stage/usr/lib/ISOLINUX/isolinux.bin" "$stage/usr/lib/syslinux/modules/bios/ldlinux.c32" "$cd_/isolinux/"
sed "s/@VERSION@/$version/g" "$here/isolinux.cfg" >"$cd_/isolinux/isolinux.cfg"

manifest=$work/berth-os.manifest
{
  echo "# berth-os $version ($volid), built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# package version sha256-of-.deb"
  for pin in "${pins[@]}"; do
    read -r pkg ver <<<"$pin"
    echo "$pkg $ver $(sha256sum "$cache/debs/${pkg}_${ver//:/%3a}.deb" | cut -d' ' -f1)"
  done
  echo "# kernel modules loaded at boot, and once sshd runs (with their dependencies in the image):"
  sed 's/^/# module /' "$root/etc/modules"
  sed 's/^/# module-later /' "$root/etc/modules.later"
} >"$manifest"
cp "$manifest" "$cd_/berth-os.manifest"

say "writing $iso"
xorriso -as mkisofs -quiet -o "$work/berth-os.iso" -V "$volid" -J -R \
  -b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot \
  -boot-load-size 4 -boot-info-table \
  -isohybrid-mbr "$stage/usr/lib/ISOLINUX/isohdpfx.bin" "$cd_" 2>&1 | grep -v '^$' >&2 || true
[ -s "$work/berth-os.iso" ] || die "xorriso wrote no ISO"

size=$(stat -c %s "$work/berth-os.iso")
budget=$((40 * 1024 * 1024))
[ "$size" -le "$budget" ] || die "the ISO is $size bytes, over the 40 MiB budget"

mv "$work/berth-os.iso" "$iso"
mv "$manifest" "$build/berth-os.manifest"
(cd "$build" && sha256sum berth-os.iso >berth-os.iso.sha256)
echo "$inputs" >"$stamp"
say "built $iso ($volid, $((size / 1024)) KiB)"
