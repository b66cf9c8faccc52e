#!/usr/bin/env bash
# Builds a Debian 12 root filesystem tarball for the generic driver's tests:
# systemd as init, OpenSSH, sudo, and a user "berth" with passwordless
# sudo (its authorized_keys is written by the test). The tests import it
# into the machine's Docker Engine and run it as a container.
# Usage: scripts/debian-sshd-rootfs.sh OUT.tar   (as root; needs debootstrap)
set -euo pipefail
out=${1:?usage: $0 OUT.tar}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d "${TMPDIR:-/tmp}/debian-sshd.XXXXXX")
cleanup() {
  for m in proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,openssh-server,sudo,iproute2 \
  bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || { tail -30 "$work/debootstrap.log" >&2; exit 1; }
chroot "$root" useradd -m -s /bin/bash berth
echo 'berth ALL=(ALL) NOPASSWD:ALL' >"$root/etc/sudoers.d/berth"
chmod 0440 "$root/etc/sudoers.d/berth"
install -d -m 0700 -o "$(chroot "$root" id -u berth)" -g "$(chroot "$root" id -g berth)" "$root/home/berth/.ssh"
# Key-only logins; no units that make no sense in a container.
printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\n' >"$root/etc/ssh/sshd_config.d/berth.conf"
for u in getty@tty1.service systemd-udevd.service systemd-timesyncd.service; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/*
mkdir -p "$(dirname "$out")"
tar -C "$root" -cf "$out.tmp" .
mv -f "$out.tmp" "$out"
