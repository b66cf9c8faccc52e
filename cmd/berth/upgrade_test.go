package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers/qemu"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
)

// stoppedQEMUMachine stores a QEMU machine that boots an ISO with volume
// id, never started (no QEMU runs).
func stoppedQEMUMachine(t *testing.T, root, name, id string) {
	t.Helper()
	s := machine.NewStore(root)
	d := qemu.New(s.Base(name))
	if err := s.Save(&machine.Machine{Config: machine.Config{Name: name, Created: time.Now()}, Driver: d}); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFakeISO(t, filepath.Join(s.Dir(name), qemu.BootFile), id)
}

// TestLsAndInspectShowTheGuestOS: ls's OS column and inspect's GuestOS
// come from the machine's boot ISO and this berth's ($BERTH_ISO here),
// for stopped machines too.
func TestLsAndInspectShowTheGuestOS(t *testing.T) {
	root := t.TempDir()
	t.Setenv("BERTH_ISO", testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.1.0"))
	stoppedQEMUMachine(t, root, "old", "berth-os-v0.0.9")
	stoppedQEMUMachine(t, root, "cur", "berth-os-v0.1.0")
	stoppedQEMUMachine(t, root, "odd", "cidata")
	mustBerth(t, root, "create", "-d", "fake", "host")

	got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}} [{{.OS}}]")
	want := "cur Stopped [v0.1.0]\nhost Running []\nodd Stopped [cidata]\nold Stopped [v0.0.9 (upgrade to v0.1.0)]\n"
	if got != want {
		t.Errorf("ls =\n%s\nwant\n%s", got, want)
	}
	if got := mustBerth(t, root, "ls"); !strings.Contains(got, " OS ") || !strings.Contains(got, "v0.0.9 (upgrade to v0.1.0)") {
		t.Errorf("ls's default table lacks the OS column:\n%s", got)
	}
	got = mustBerth(t, root, "inspect", "--format", "{{.GuestOS.Version}} {{.GuestOS.VolumeID}} {{.GuestOS.Arch}} {{.GuestOS.Available}} {{.GuestOS.Outdated}}", "old")
	if got != "v0.0.9 berth-os-v0.0.9 amd64 v0.1.0 true\n" {
		t.Errorf("inspect old = %q", got)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.GuestOS.Outdated}}", "cur"); got != "false\n" {
		t.Errorf("inspect cur = %q", got)
	}
	if got := mustBerth(t, root, "inspect", "host"); strings.Contains(got, "GuestOS") {
		t.Errorf("inspect of a machine that boots no ISO shows GuestOS:\n%s", got)
	}
	// Without a berth-os of this berth's to compare with, nothing is
	// called outdated.
	t.Setenv("BERTH_ISO", "https://example.com/berth-os.iso")
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.OS}}", "--filter", "name=old"); got != "old v0.0.9\n" {
		t.Errorf("ls with this berth's berth-os unknown = %q", got)
	}
}

func TestUpgradeUsage(t *testing.T) {
	root := t.TempDir()
	for _, args := range [][]string{{"upgrade"}, {"upgrade", "--agent-only", "--iso", "x.iso", "dev"}} {
		if r := berth(t, root, "", args...); r.code != 2 {
			t.Errorf("berth %s: exit %d, want 2\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	mustBerth(t, root, "create", "-d", "fake", "host")
	if r := berth(t, root, "", "upgrade", "--iso", "x.iso", "host"); r.code == 0 || !strings.Contains(r.stderr, "the fake driver's machines run their own OS") {
		t.Errorf("upgrade --iso of a machine that boots no ISO: exit %d\n%s", r.code, r.stderr)
	}
}
