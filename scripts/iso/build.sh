#!/usr/bin/env bash
# Builds the berth-os ISO of one architecture (build/berth-os-ARCH.iso and
# its .sha256) from the Debian packages pinned in scripts/iso/packages.
# Usage: scripts/iso/build.sh [amd64|arm64]   (default amd64)
# The amd64 ISO boots by BIOS (isolinux) and UEFI (GRUB), the arm64 one by
# UEFI (GRUB); build/berth-os.iso is the amd64 one under its older name.
# Skips the work when no input changed since the last build
# (BERTH_ISO_FORCE=1 rebuilds anyway).
# Needs: apt-get, dpkg-deb, cpio, zstd, kmod (depmod, modprobe), xorriso,
# readelf, grub-mkimage, mkfs.vfat, mtools; `make iso` installs them
# (scripts/deps.sh iso), and dpkg's arm64 architecture for the arm64 ISO.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=${1:-amd64}
build=$repo/build
cache=$build/iso-cache    # downloaded packages and the unpacked kernel, kept between builds
work=$build/iso-work-$arch # scratch, remade on every build
iso=$build/berth-os-$arch.iso
version=$(cat "$here/VERSION")
# The volume id carries the version, and the architecture but for amd64's
# (whose id predates the arm64 ISO): berth-os-v0.1.0, berth-os-v0.1.0-arm64.
volid=berth-os-v$version
[ "$arch" = amd64 ] || volid=$volid-$arch
# The agent shipped on the CD (berth-os installs it on a machine's first
# boot, so that provisioning need not upload it): `make agents` builds it,
# for the ISO's architecture. BERTH_ISO_AGENT= (empty) builds an ISO
# without one.
agent=${BERTH_ISO_AGENT-$repo/bin/linux-$arch/berth-agent}

say() { echo "iso($arch): $(date +%T) $*" >&2; }
die() { echo "iso($arch): error: $*" >&2; exit 1; }

# What differs between the architectures: the libraries' directory, the
# dynamic loader (its path in the guest), GRUB's EFI platform and the name
# firmware looks for, the serial console, and where the .debs are cached.
case "$arch" in
  amd64)
    triplet=x86_64-linux-gnu loader=usr/lib64/ld-linux-x86-64.so.2
    grubfmt=x86_64-efi efiboot=BOOTX64.EFI serial=ttyS0 console="console=tty0 console=ttyS0,115200n8 no_timer_check"
    debs=$cache/debs ;;
  arm64)
    triplet=aarch64-linux-gnu loader=usr/lib/ld-linux-aarch64.so.1
    grubfmt=arm64-efi efiboot=BOOTAA64.EFI serial=ttyAMA0 console="console=tty0 console=ttyAMA0,115200"
    debs=$cache/debs-arm64
    [[ " $(dpkg --print-foreign-architectures | tr "\n" " ") " = *" arm64 "* ]] || [ "$(dpkg --print-architecture)" = arm64 ] ||
      die "apt does not know arm64 packages: run scripts/deps.sh iso (dpkg --add-architecture arm64; apt-get update)" ;;
  *) die "unknown architecture \"$arch\" (want amd64 or arm64)" ;;
esac

for tool in apt-get dpkg-deb cpio zstd depmod modprobe xorriso sha256sum readelf grub-mkimage mkfs.vfat mcopy; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/deps.sh iso installs the build tools)"
done

# Inputs: every file under scripts/iso (content and mode). The ISO is rebuilt
# when one changes.
# The shipped agent is an input too.
if [ -n "$agent" ]; then
  [ -f "$agent" ] || die "$agent is missing: run \`make agents\` first (or set BERTH_ISO_AGENT= to build an ISO without an agent)"
  agent_sum=$(sha256sum "$agent" | cut -d' ' -f1)
fi
inputs=$( { echo "$arch"; cd "$here" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -printf '%m %p\n' | sort; echo "agent ${agent_sum:-none}"; } | sha256sum | cut -d' ' -f1)
stamp=$build/berth-os-$arch.inputs
manifest_out=$build/berth-os-$arch.manifest
# The amd64 ISO keeps its first name too (machines and scripts made before
# the architectures were named use it): a hard link, as drivers hard-link
# the ISO into a machine's folder (a link to a relative symlink dangles).
legacy() {
  [ "$arch" = amd64 ] || return 0
  ln -f "$build/berth-os-amd64.iso" "$build/berth-os.iso"
  ln -f "$build/berth-os-amd64.manifest" "$build/berth-os.manifest"
  (cd "$build" && sed 's/berth-os-amd64\.iso$/berth-os.iso/' berth-os-amd64.iso.sha256 >berth-os.iso.sha256)
}
if [ "${BERTH_ISO_FORCE:-}" != 1 ] && [ -f "$iso" ] && [ -f "$iso.sha256" ] &&
  [ -f "$manifest_out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  legacy
  say "$iso is up to date ($volid)"
  exit 0
fi
rm -f "$stamp"

# ---- packages ---------------------------------------------------------------
mkdir -p "$debs"
pins=() # "package version"
while read -r pkg ver only rest; do
  case "$pkg" in ''|'#'*) continue ;; esac
  [ -n "$ver" ] && [ -z "$rest" ] && case "$only" in ''|amd64|arm64) true ;; *) false ;; esac ||
    die "scripts/iso/packages: bad line \"$pkg $ver $only $rest\" (want: package version [amd64|arm64])"
  [ -z "$only" ] || [ "$only" = "$arch" ] || continue
  pins+=("$pkg $ver")
done <"$here/packages"

# deb_of PKG VER: the cached .deb of PKG at exactly VER, downloaded if needed.
updated=
# Packages of the architecture (pkg:ARCH), or for all of them (ca-certificates).
download() { (cd "$1" && { apt-get download -q "$2:$arch=$3" || apt-get download -q "$2=$3"; } >/dev/null 2>"$1/err"); }
deb_of() {
  local pkg=$1 ver=$2 deb="$debs/${1}_${2//:/%3a}.deb" tmp
  if [ ! -f "$deb" ]; then
    tmp=$(mktemp -d "$cache/dl.XXXXXX")
    if ! download "$tmp" "$pkg" "$ver"; then
      if [ -z "$updated" ] && [ "$(id -u)" = 0 ]; then
        say "apt-get download $pkg=$ver failed; refreshing apt's package lists and trying again"
        apt-get update -qq >&2 && updated=1
      fi
      if ! download "$tmp" "$pkg" "$ver"; then
        local avail
        avail=$(apt-cache madison "$pkg:$arch" 2>/dev/null | awk -F'|' '{gsub(/ /,"",$2); printf "%s%s", sep, $2; sep = ", "}')
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
  got=$(dpkg-deb --showformat='${Architecture}' -W "$deb")
  [ "$got" = "$arch" ] || [ "$got" = all ] || die "$deb is for $got, not $arch (remove it and rebuild)"
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
mkdir -p "$root"/usr/{bin,sbin,lib/$triplet,share} \
  "$root"/{etc,proc,sys,dev,run,tmp,root,mnt,var/lib/berth,var/log}
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
if [ "$arch" = amd64 ]; then mkdir -p "$root/usr/lib64" && ln -s usr/lib64 "$root/lib64"; fi
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
# Its applet list, from the package's binary or, when this host cannot run
# it (another architecture), from the same version built for this host
# (Debian builds busybox-static with one configuration everywhere).
applets() {
  "$root/usr/bin/busybox" --list-full 2>/dev/null && return
  local hostarch ver
  hostarch=$(dpkg --print-architecture)
  ver=$(printf '%s\n' "${pins[@]}" | awk '$1 == "busybox-static" {print $2}')
  mkdir -p "$work/hostbb"
  (cd "$work/hostbb" && apt-get download -q "busybox-static:$hostarch=$ver" >/dev/null 2>&1) ||
    die "cannot run the $arch busybox, nor download busybox-static:$hostarch=$ver to list its applets"
  dpkg-deb -x "$work"/hostbb/*.deb "$work/hostbb/x"
  "$work/hostbb/x/bin/busybox" --list-full
}
applets | while read -r applet; do
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

# Shared libraries of every dynamic binary and of the libraries they need
# (DT_NEEDED, read with readelf, which reads any architecture's ELF files),
# found in the pinned packages (never the build host's), and the loader.
libdirs=("$stage/lib/$triplet" "$stage/usr/lib/$triplet")
ldname=${loader##*/}
ld=$(find "${libdirs[@]}" -maxdepth 1 -name "$ldname" 2>/dev/null | head -n 1)
[ -n "$ld" ] || die "libc6 has no $ldname"
cp -L "$ld" "$root/usr/lib/$triplet/$ldname"
case "$loader" in
  "usr/lib/$ldname") ln -s "$triplet/$ldname" "$root/$loader" ;;
  *) ln -s "../lib/$triplet/$ldname" "$root/$loader" ;;
esac
needed() { readelf -d "$1" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
queue=$(find "$root/usr" -type f -perm -u+x | while read -r bin; do
  head -c 4 "$bin" | grep -q ELF || continue
  readelf -l "$bin" 2>/dev/null | grep -q 'program interpreter' || continue
  needed "$bin" | sed "s|\$| ${bin#"$root"/}|"
done)
while [ -n "$queue" ]; do
  next=
  while read -r soname by; do
    [ -e "$root/usr/lib/$triplet/$soname" ] && continue
    [ "$soname" = "$ldname" ] && continue
    path=
    for d in "${libdirs[@]}"; do [ -e "$d/$soname" ] && { path=$d/$soname; break; }; done
    [ -n "$path" ] || die "$by needs $soname, which no pinned package provides; add its package to scripts/iso/packages"
    cp -L "$path" "$root/usr/lib/$triplet/$soname"
    next+=$(needed "$path" | sed "s|\$| $soname|")$'\n'
  done <<<"$queue"
  queue=$(echo "$next" | sed '/^$/d')
done

# Kernel modules with their dependencies, and the index busybox modprobe reads.
moddir=lib/modules/$kver
# unsign KO: drop the signature Debian appends to each module (its
# struct module_signature, whose last 4 bytes are the signature's length,
# big endian, then a magic string). The kernel checks a signature when a
# module has one, and under emulation that check was most of the time
# loading modules took at boot (about 3x); without one it loads the module
# and marks itself tainted (E), as the kernel does not enforce signatures.
sigmagic='~Module signature appended~'
unsign() {
  local size siglen
  [ "$(tail -c 28 "$1" | head -c 27 | tr -d "\0")" = "$sigmagic" ] || return 0
  size=$(stat -c %s "$1")
  siglen=$(tail -c 32 "$1" | head -c 4 | od -An -tu1 | awk '{print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4}')
  truncate -s $((size - 28 - 12 - siglen)) "$1"
}
mkdir -p "$root/usr/$moddir"
: >"$root/etc/modules"
: >"$root/etc/modules.later"
while read -r m words; do
  case "$m" in ''|'#'*) continue ;; esac
  list=$root/etc/modules
  for w in $words; do
    case "$w" in
      later) list=$root/etc/modules.later ;;
      amd64 | arm64) [ "$w" = "$arch" ] || continue 2 ;;
      *) die "scripts/iso/modules: \"$m $words\": want a module name, optionally followed by \"later\" and an architecture" ;;
    esac
  done
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m" 2>&1) ||
    die "kernel module $m (scripts/iso/modules) is not in $kpkg: $deps"
  echo "$deps" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue
    rel=${path#"$kroot"/}; rel=${rel#usr/}
    mkdir -p "$root/usr/${rel%/*}"
    cp "$path" "$root/usr/$rel"
    unsign "$root/usr/$rel"
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
# The serial console: ttyS0 on a PC, the PL011 UART ttyAMA0 on arm64.
[ "$serial" = ttyS0 ] || sed -i "s/^ttyS0::/$serial::/" "$root/etc/inittab"
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
mkdir -p "$cd_/boot/grub"
if [ "$arch" = arm64 ]; then
  # Debian's arm64 vmlinuz is the uncompressed Image (32 MB); GRUB
  # decompresses a gzip'd one as it loads it (gzio).
  gzip -9 -n -c "$kroot/boot/vmlinuz-$kver" >"$cd_/boot/vmlinuz"
else
  cp "$kroot/boot/vmlinuz-$kver" "$cd_/boot/vmlinuz"
fi
(cd "$root" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet) | zstd -q -10 -T0 >"$cd_/boot/initrd.img"
bios=()
if [ "$arch" = amd64 ]; then
  # BIOS: isolinux.
  mkdir -p "$cd_/isolinux"
  cp "$stage/usr/lib/ISOLINUX/isolinux.bin" "$stage/usr/lib/syslinux/modules/bios/ldlinux.c32" "$cd_/isolinux/"
  sed "s/@VERSION@/$version/g" "$here/isolinux.cfg" >"$cd_/isolinux/isolinux.cfg"
  bios=(-b isolinux/isolinux.bin -c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table
    -isohybrid-mbr "$stage/usr/lib/ISOLINUX/isohdpfx.bin" -eltorito-alt-boot)
fi
# UEFI: GRUB's EFI image (from Debian's grub-efi-*-bin, modules built in) in
# a FAT image that is the El Torito EFI boot entry. Its built-in
# configuration finds the CD by volume id and reads /boot/grub/grub.cfg.
grubdir=$stage/usr/lib/grub/$grubfmt
[ -d "$grubdir" ] || die "no $grubfmt GRUB modules in the packages (pin grub-efi-$arch-bin in scripts/iso/packages)"
sed -e "s/@VERSION@/$version/g" -e "s/@CONSOLE@/$console/g" "$here/grub.cfg" >"$cd_/boot/grub/grub.cfg"
cat >"$work/grub-early.cfg" <<CFG
search --no-floppy --set=root --label $volid
set prefix=(\$root)/boot/grub
configfile \$prefix/grub.cfg
CFG
grub-mkimage -O "$grubfmt" -d "$grubdir" -c "$work/grub-early.cfg" -p /boot/grub -o "$work/$efiboot" \
  iso9660 part_gpt part_msdos fat search search_label configfile normal echo linux gzio efi_gop ||
  die "grub-mkimage could not make the $grubfmt EFI image"
efikib=$(( ($(stat -c %s "$work/$efiboot") / 1024 + 512) / 32 * 32 + 32 ))
rm -f "$cd_/boot/grub/efi.img"
mkfs.vfat -n BERTHEFI -C "$cd_/boot/grub/efi.img" "$efikib" >/dev/null
mmd -i "$cd_/boot/grub/efi.img" ::/EFI ::/EFI/BOOT
mcopy -i "$cd_/boot/grub/efi.img" "$work/$efiboot" "::/EFI/BOOT/$efiboot"

if [ -n "$agent" ]; then
  cp "$agent" "$cd_/berth-agent"
  chmod 0755 "$cd_/berth-agent"
  echo "$agent_sum  berth-agent" >"$cd_/berth-agent.sha256"
fi

manifest=$work/berth-os.manifest
{
  echo "# berth-os $version ($volid), built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# package version sha256-of-.deb"
  for pin in "${pins[@]}"; do
    read -r pkg ver <<<"$pin"
    echo "$pkg $ver $(sha256sum "$debs/${pkg}_${ver//:/%3a}.deb" | cut -d' ' -f1)"
  done
  echo "# kernel modules loaded at boot, and once sshd runs (with their dependencies in the image):"
  sed 's/^/# module /' "$root/etc/modules"
  sed 's/^/# module-later /' "$root/etc/modules.later"
  echo "# the agent on the CD (/berth-agent), installed at first boot:"
  echo "# agent ${agent_sum:-none}"
} >"$manifest"
cp "$manifest" "$cd_/berth-os.manifest"

say "writing $iso"
xorriso -as mkisofs -quiet -o "$work/berth-os.iso" -V "$volid" -J -R "${bios[@]}" \
  -e boot/grub/efi.img -no-emul-boot -isohybrid-gpt-basdat "$cd_" 2>&1 | grep -v '^$' >&2 || true
[ -s "$work/berth-os.iso" ] || die "xorriso wrote no ISO"

size=$(stat -c %s "$work/berth-os.iso")
budget=$((40 * 1024 * 1024))
[ "$size" -le "$budget" ] || die "the ISO is $size bytes, over the 40 MiB budget"

mv "$work/berth-os.iso" "$iso"
mv "$manifest" "$manifest_out"
(cd "$build" && sha256sum "${iso##*/}" >"${iso##*/}.sha256")
legacy
echo "$inputs" >"$stamp"
say "built $iso ($volid, $((size / 1024)) KiB)"
