package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

// guestCDLabels is a command for berth ssh that prints the volume id of
// every ISO the guest has, as berth-os itself reads them (lib.sh).
// QEMU's direct kernel boot attaches the ISO as a read-only virtio disk,
// VirtualBox as a CD: both are read.
const guestCDLabels = `. /usr/lib/berth/lib.sh; for d in /dev/sr* /dev/vd*; do [ -b "$d" ] && iso_label $d && echo; done; true`

// TestVirtualBoxUpgradeGuestOS moves a VirtualBox machine (through the
// VBoxManage double, which boots it in QEMU from the ISO in its DVD
// drive) from a berth-os that says v0.0.9 to this berth's: the new ISO
// goes into the DVD drive with storageattach, the old one is forgotten
// with closemedium once the new one booted, and the data disk keeps a
// volume's file and the host key.
func TestVirtualBoxUpgradeGuestOS(t *testing.T) {
	dbl := vboxEnv(t)
	iso := testenv.ISO(t)
	newID, err := isocache.VolumeID(iso)
	if err != nil {
		t.Fatal(err)
	}
	newVer := isocache.VersionOf(newID)
	old := testenv.ISOVariant(t, iso, "berth-os-v0.0.9")
	t.Setenv("BERTH_ISO", iso)
	treeAgent(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "vup") })
	mustBerth(t, root, "create", "-d", "virtualbox", "--virtualbox-iso", old,
		"--virtualbox-memory", "768", "--virtualbox-disk-size", "1000", "--no-share", "vup")
	dir := filepath.Join(root, "machines", "vup")
	if got := mustBerth(t, root, "ls", "--format", "{{.OS}}"); got != "v0.0.9 (upgrade to "+newVer+")\n" {
		t.Errorf("ls before the upgrade = %q", got)
	}
	loadBusybox(t, root, "vup")
	mustBerth(t, root, "run", "-m", "vup", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	hostKey, _ := os.ReadFile(filepath.Join(dir, "known_hosts"))

	calls := len(dbl.Calls())
	r := berth(t, root, "", "upgrade", "vup")
	if r.code != 0 || !strings.Contains(r.stdout, "vup: berth-os upgraded from v0.0.9 to "+newVer) {
		t.Fatalf("upgrade: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	var attached, closed bool
	for _, c := range dbl.Calls()[calls:] {
		if len(c) > 0 && c[0] == "storageattach" && slices.Contains(c, filepath.Join(dir, "boot.alt.iso")) && slices.Contains(c, "dvddrive") {
			attached = true
		}
		if len(c) > 2 && c[0] == "closemedium" && c[1] == "dvd" && c[2] == filepath.Join(dir, "boot.iso") {
			closed = true
		}
	}
	if !attached || !closed {
		t.Errorf("upgrade's VBoxManage calls: attached the new ISO %v, closed the old one %v\n%q", attached, closed, dbl.Calls()[calls:])
	}
	if got := mustBerth(t, root, "ssh", "vup", "--", guestCDLabels); !strings.Contains(got, newID+"\n") || strings.Contains(got, "v0.0.9") {
		t.Errorf("the guest's CDs after the upgrade: %q", got)
	}
	if got := mustBerth(t, root, "run", "-m", "vup", "--rm", "-v", "keep:/data", "busybox", "cat", "/data/f"); got != "kept\n" {
		t.Errorf("the volume's file after the upgrade = %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "known_hosts")); len(hostKey) == 0 || string(got) != string(hostKey) {
		t.Errorf("the pinned host key changed: %q -> %q", hostKey, got)
	}
	if got := mustBerth(t, root, "ls", "--format", "{{.OS}}"); got != newVer+"\n" {
		t.Errorf("ls after the upgrade = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "boot.iso")); err == nil {
		t.Error("the old ISO is left in the machine folder")
	}
	mustBerth(t, root, "rm", "-y", "vup")
}
