# berth-os shell helpers, sourced by the boot scripts.
export PATH=/usr/sbin:/usr/bin

# say MESSAGE: show boot progress on every console (serial and screen) and
# keep it in /var/log/boot.log.
say() {
  local c
  for c in $(cat /sys/class/tty/console/active 2>/dev/null || echo console); do
    echo "berth-os: $*" >"/dev/$c" 2>/dev/null
  done
  echo "$(cut -d' ' -f1 /proc/uptime 2>/dev/null) $*" >>/var/log/boot.log 2>/dev/null
}

# wait_for SECONDS COMMAND...: run COMMAND every 0.1 s until it succeeds or
# SECONDS have passed.
wait_for() {
  local n=$(($1 * 10))
  shift
  while ! "$@" >/dev/null 2>&1; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    usleep 100000
  done
}

# addresses: the machine's IPv4 addresses on its NICs, one a line.
addresses() {
  ip -o -4 addr show scope global 2>/dev/null | awk '{print $2, $4}'
}

# iso_label DEV: the volume id of the ISO 9660 file system on DEV (fails
# when DEV holds none). busybox's blkid/findfs are not in Debian's build.
iso_label() {
  [ "$(dd if="$1" bs=1 skip=32769 count=5 2>/dev/null)" = CD001 ] || return 1
  dd if="$1" bs=1 skip=32808 count=32 2>/dev/null | tr -d '\000' | sed 's/ *$//'
}

# ext_label DEV: the label of the ext2/3/4 file system on DEV (fails when DEV
# holds none).
ext_label() {
  [ "$(dd if="$1" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 53ef ] || return 1
  dd if="$1" bs=1 skip=1144 count=16 2>/dev/null | tr -d '\000'
  echo
}

# find_iso LABEL: the block device holding an ISO 9660 file system labelled
# LABEL.
find_iso() {
  local b
  for b in /sys/block/sr* /sys/block/vd* /sys/block/sd* /sys/block/hd*; do
    [ -e "$b" ] || continue
    [ "$(iso_label "/dev/${b##*/}")" = "$1" ] && echo "/dev/${b##*/}" && return 0
  done
  return 1
}
