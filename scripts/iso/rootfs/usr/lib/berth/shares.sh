# berth-os: mount the shared folders that the seed lists (cloud-config
# mounts: "source target type options", one a line in SEED_MOUNTS).
#   9p        a virtio-9p device whose mount tag is source (QEMU);
#   virtiofs  a virtio-fs device tagged source;
#   vboxsf    the VirtualBox shared folder named source; without a
#             VirtualBox guest device (/dev/vboxguest) it falls back to a
#             virtio-9p device with the same tag (the VBoxManage double
#             runs VirtualBox VMs in QEMU and exports shares that way).

# The 9p options when a mount names none (the seed package writes the
# same): 9P2000.L, the largest message Linux's virtio transport takes, and
# cache=mmap: no caching but of mmap'd pages, so host edits show at once.
NINEP_OPTS=trans=virtio,version=9p2000.L,msize=512000,cache=mmap
# Where mount errors go, and the device VirtualBox's guest driver makes
# (both set otherwise only by tests of this script).
SHARES_LOG=${SHARES_LOG:-/var/log/boot.log}
VBOXGUEST_DEV=${VBOXGUEST_DEV:-/dev/vboxguest}

# share_mount SOURCE TARGET TYPE [OPTIONS]
share_mount() {
  local src="$1" dst="$2" type="$3" opts="$4"
  if [ "$type" = vboxsf ] && [ ! -c "$VBOXGUEST_DEV" ]; then
    say "no VirtualBox guest device: mounting share $src over virtio-9p"
    type=9p opts=
  fi
  case "$type" in
    9p) modprobe -q -a 9pnet_virtio 9p; opts=${opts:-$NINEP_OPTS} ;;
    virtiofs) modprobe -q virtiofs ;;
    vboxsf) modprobe -q vboxsf ;;
  esac
  mkdir -p "$dst" || return 1
  mount -t "$type" ${opts:+-o "$opts"} "$src" "$dst" 2>>"$SHARES_LOG" || return 1
  say "mounted $type share $src at $dst"
}

# shares_mount: mount every share of SEED_MOUNTS; a share that fails is
# reported and the boot goes on.
shares_mount() {
  [ -n "$SEED_MOUNTS" ] || return 0
  echo "$SEED_MOUNTS" | while read -r src dst type opts; do
    [ -n "$src" ] || continue
    share_mount "$src" "$dst" "$type" "$opts" ||
      say "could not mount $type share $src at $dst (see $SHARES_LOG)"
  done
}
