//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

// TestQEMUUpgradeGuestOS moves a real berth-os machine to another ISO:
// it is made from a copy of the berth-os ISO that says it is v0.0.9 (the
// same bytes but for the volume id), holds an image, a stopped container,
// a running one with a restart policy, and a volume with a file. ls and
// inspect show it outdated, without asking the machine; upgrade stops it
// (and says so), swaps the ISO, boots it, provisions the agent and keeps
// the data disk: everything is still there, the guest sees the new CD,
// the host key pinned at create is unchanged, and the old ISO is gone.
func TestQEMUUpgradeGuestOS(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	newID, err := isocache.VolumeID(iso)
	if err != nil {
		t.Fatal(err)
	}
	newVer := isocache.VersionOf(newID)
	if newVer == "" || isocache.Older(newVer, "v0.0.10") {
		t.Fatalf("the test ISO %s is %s; this test wants a berth-os newer than v0.0.9", iso, newID)
	}
	old := testenv.ISOVariant(t, iso, "berth-os-v0.0.9")
	t.Setenv("BERTH_ISO", iso) // the berth-os this berth brings
	root := qemuMachine(t, "up", "--qemu-iso", old)
	dir := filepath.Join(root, "machines", "up")

	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.OS}}"); got != "up v0.0.9 (upgrade to "+newVer+")\n" {
		t.Errorf("ls before the upgrade = %q", got)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.GuestOS.Version}} {{.GuestOS.Available}} {{.GuestOS.Outdated}}", "up"); got != "v0.0.9 "+newVer+" true\n" {
		t.Errorf("inspect before the upgrade = %q", got)
	}
	if got := mustBerth(t, root, "ssh", "up", "--", guestCDLabels); !strings.Contains(got, "berth-os-v0.0.9\n") {
		t.Errorf("the guest's CDs before the upgrade: %q", got)
	}

	loadBusybox(t, root, "up")
	mustBerth(t, root, "volume", "create", "-m", "up", "keep")
	mustBerth(t, root, "run", "-m", "up", "--name", "writer", "-v", "keep:/data", "busybox", "sh", "-c", "echo kept > /data/f")
	mustBerth(t, root, "run", "-m", "up", "-d", "--name", "daemon", "--restart", "always", "busybox", "sleep", "100000")
	hostKey, err := os.ReadFile(filepath.Join(dir, "known_hosts"))
	if err != nil || len(hostKey) == 0 {
		t.Fatalf("known_hosts after create: %q, %v", hostKey, err)
	}

	start := time.Now()
	r := berth(t, root, "", "upgrade", "up")
	t.Logf("upgrade (stop, swap, boot, provision) took %s\nstdout:\n%s\nstderr:\n%s", time.Since(start).Round(time.Millisecond), r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("upgrade: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"up: stopping the machine to move it from berth-os v0.0.9 to " + newVer, "up: berth-os upgraded from v0.0.9 to " + newVer} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("upgrade did not say %q", want)
		}
	}

	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}} {{.OS}}"); got != "up Running "+newVer+"\n" {
		t.Errorf("ls after the upgrade = %q", got)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.GuestOS.Version}} {{.GuestOS.Outdated}}", "up"); got != newVer+" false\n" {
		t.Errorf("inspect after the upgrade = %q", got)
	}
	if got := mustBerth(t, root, "ssh", "up", "--", guestCDLabels); !strings.Contains(got, newID+"\n") || strings.Contains(got, "v0.0.9") {
		t.Errorf("the guest's CDs after the upgrade: %q, want %s and not v0.0.9", got, newID)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "known_hosts")); string(got) != string(hostKey) {
		t.Errorf("the pinned host key changed:\nbefore %q\nafter  %q", hostKey, got)
	}
	if got := mustBerth(t, root, "images", "-m", "up", "--format", "{{.Repository}}:{{.Tag}}"); !strings.Contains(got, "busybox:latest\n") {
		t.Errorf("images after the upgrade:\n%s", got)
	}
	if got := mustBerth(t, root, "volume", "ls", "-m", "up", "-q"); !strings.Contains(got, "keep\n") {
		t.Errorf("volumes after the upgrade:\n%s", got)
	}
	if got := mustBerth(t, root, "run", "-m", "up", "--rm", "-v", "keep:/data", "busybox", "cat", "/data/f"); got != "kept\n" {
		t.Errorf("the volume's file after the upgrade = %q, want kept", got)
	}
	// The restart policy brings the daemon back once the agent runs again.
	var ps string
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		ps = mustBerth(t, root, "ps", "-m", "up", "-a", "--format", "{{.Names}} {{.State}}")
		if strings.Contains(ps, "daemon running") {
			break
		}
	}
	if !strings.Contains(ps, "writer exited") || !strings.Contains(ps, "daemon running") {
		t.Errorf("containers after the upgrade:\n%s", ps)
	}
	for _, f := range []string{"boot.old.iso", "boot.new.iso"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s is left in the machine folder", f)
		}
	}

	if got := mustBerth(t, root, "upgrade", "up"); !strings.Contains(got, "up: berth-os "+newVer+" already in place") || !strings.Contains(got, "already in place (") {
		t.Errorf("a second upgrade printed:\n%s", got)
	}
	mustBerth(t, root, "rm", "-y", "up")
}
