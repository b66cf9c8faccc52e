# berth-os: the agent shipped on the berth-os CD (/berth-agent, put there
# by scripts/iso/build.sh). On a machine's first boot, before sshd starts,
# it is installed into the agent slot, so that berth's provisioning finds
# its own agent there and uploads nothing; an agent of another version is
# replaced by provisioning as usual.

# shipped_agent_install: copy the CD's agent into the empty agent slot.
shipped_agent_install() {
  local b dev= mnt=/run/berth/cd slot=/var/lib/berth/bin
  # A CD-ROM, or a read-only virtio disk (QEMU's direct kernel boot).
  for b in /sys/block/sr* /sys/block/vd*; do
    [ -e "$b" ] || continue
    case "$(iso_label "/dev/${b##*/}")" in
      berth-os-v*) dev=/dev/${b##*/}; break ;;
    esac
  done
  if [ -z "$dev" ]; then
    say "no berth-os CD attached: no shipped agent to install"
    return 1
  fi
  mkdir -p "$mnt" "$slot" && mount -t iso9660 -o ro "$dev" "$mnt" || return 1
  if [ -f "$mnt/berth-agent" ] &&
    cp "$mnt/berth-agent" "$slot/.berth-agent.new" && chmod 0755 "$slot/.berth-agent.new" &&
    mv -f "$slot/.berth-agent.new" "$slot/berth-agent"; then
    # Its SHA-256, which provisioning reads instead of hashing the agent.
    cp "$mnt/berth-agent.sha256" "$slot/berth-agent.sha256" 2>/dev/null
    say "installed the agent shipped on the berth-os CD"
  else
    rm -f "$slot/.berth-agent.new"
    say "the berth-os CD carries no agent"
  fi
  umount "$mnt"
}
