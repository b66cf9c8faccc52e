# berth-os: the data disk. The disk labelled berth-data is mounted at
# /var/lib/berth; on first boot the first blank disk is formatted ext4 with
# that label. A disk that holds anything (a partition table, a file system,
# any non-zero byte in its first MiB) is never formatted.

DATA_LABEL=berth-data
DATA_DIR=/var/lib/berth

# disks: whole disks that could be the data disk (no CD-ROMs, no
# removable media, nothing read only), in name order.
disks() {
  local d
  for d in /sys/block/vd* /sys/block/sd* /sys/block/hd* /sys/block/nvme*n* /sys/block/xvd*; do
    [ -e "$d/device" ] || continue
    [ "$(cat "$d/removable" 2>/dev/null)" = 1 ] && continue
    # Read only: the berth-os ISO or the seed as a virtio disk.
    [ "$(cat "$d/ro" 2>/dev/null)" = 1 ] && continue
    [ "$(cat "$d/size")" -gt 0 ] || continue
    echo "${d##*/}"
  done
}

# blank DISK: whether DISK has no partitions and only zeros in its first MiB
# (where partition tables and file system signatures live).
blank() {
  ls -d /sys/block/"$1"/"$1"* >/dev/null 2>&1 && return 1
  [ "$(dd if="/dev/$1" bs=1M count=1 2>/dev/null | tr -d '\000' | wc -c)" = 0 ]
}

datadisk_mount() {
  local dev= d
  # Disks are probed asynchronously after their drivers load.
  wait_for 5 sh -c '. /usr/lib/berth/datadisk.sh; [ -n "$(disks)" ]'
  for d in $(disks); do
    [ "$(ext_label "/dev/$d")" = "$DATA_LABEL" ] && dev=/dev/$d && break
  done
  if [ -z "$dev" ]; then
    for d in $(disks); do
      if blank "$d"; then
        say "formatting the blank disk /dev/$d as ext4 ($DATA_LABEL)"
        if mkfs.ext4 -q -F -L "$DATA_LABEL" -E lazy_itable_init=1,lazy_journal_init=1 "/dev/$d" >>/var/log/boot.log 2>&1; then
          dev=/dev/$d
        else
          say "formatting /dev/$d failed (see /var/log/boot.log)"
        fi
        break
      fi
    done
  fi
  if [ -z "$dev" ]; then
    say "WARNING: no data disk (labelled $DATA_LABEL, or blank): $DATA_DIR is in memory and is lost at poweroff"
    return 1
  fi
  mkdir -p "$DATA_DIR"
  if ! mount -t ext4 -o noatime "$dev" "$DATA_DIR" 2>>/var/log/boot.log; then
    say "WARNING: could not mount $dev at $DATA_DIR (see /var/log/boot.log): it is in memory and is lost at poweroff"
    return 1
  fi
  mkdir -p "$DATA_DIR/bin" "$DATA_DIR/log"
  say "data disk $dev ($DATA_LABEL) mounted at $DATA_DIR"
}

# datadisk_unmount: stop everything that uses the data disk, sync and
# unmount it (and the mounts under it, such as container roots).
datadisk_unmount() {
  local m i
  grep -q " $DATA_DIR " /proc/mounts || return 0
  fuser -k -TERM -m "$DATA_DIR" >/dev/null 2>&1
  for i in 1 2 3 4 5 6 7 8 9 10; do
    fuser -m "$DATA_DIR" >/dev/null 2>&1 || break
    usleep 200000
  done
  fuser -k -KILL -m "$DATA_DIR" >/dev/null 2>&1
  sync
  # Mounts below the data disk first, deepest first.
  for m in $(awk -v d="$DATA_DIR/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
  if umount "$DATA_DIR" 2>>/var/log/boot.log; then
    say "data disk unmounted cleanly"
  elif mount -o remount,ro "$DATA_DIR" 2>>/var/log/boot.log; then
    sync
    say "WARNING: the data disk is busy: remounted it read-only"
  else
    say "WARNING: could not unmount the data disk"
  fi
}
