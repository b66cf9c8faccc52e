package qemu

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

// TestBootISOSwap replaces, restores, replaces twice and commits the boot
// ISO of a stopped machine: boot.iso is always there, the old ISO is kept
// as boot.old.iso until commit or restore, and the recorded version and
// SHA-256 (which pick the kernel of a direct kernel boot) follow.
func TestBootISOSwap(t *testing.T) {
	d := newTestDriver(t, "vm")
	ctx := context.Background()
	oldISO := testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.0.9")
	if err := linkOrCopy(oldISO, d.path(BootFile)); err != nil {
		t.Fatal(err)
	}
	oldSum, _ := isocache.SHA256File(oldISO)
	d.ISOVersion, d.ISOSHA256 = "berth-os-v0.0.9", oldSum
	newISO := testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.1.0")
	newSum, _ := isocache.SHA256File(newISO)
	newerISO := testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.1.1")

	bootID := func() string {
		t.Helper()
		id, err := isocache.VolumeID(d.BootISOPath())
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	exists := func(name string) bool { _, err := os.Stat(d.path(name)); return err == nil }

	if err := d.ReplaceBootISO(ctx, newISO); err != nil {
		t.Fatal(err)
	}
	if bootID() != "berth-os-v0.1.0" || d.ISOVersion != "berth-os-v0.1.0" || d.ISOSHA256 != newSum || !exists(OldBootFile) || exists(NewBootFile) {
		t.Errorf("after replace: boots %s, recorded %s %s, old kept %v", bootID(), d.ISOVersion, d.ISOSHA256, exists(OldBootFile))
	}
	// The settings survive config.json.
	raw, _ := json.Marshal(d)
	var back Driver
	json.Unmarshal(raw, &back)
	if back.PreviousISO == nil || back.PreviousISO.Version != "berth-os-v0.0.9" || back.PreviousISO.SHA256 != oldSum {
		t.Errorf("PreviousISO through JSON = %+v", back.PreviousISO)
	}
	if err := d.RestoreBootISO(ctx); err != nil {
		t.Fatal(err)
	}
	if bootID() != "berth-os-v0.0.9" || d.ISOVersion != "berth-os-v0.0.9" || d.ISOSHA256 != oldSum || d.PreviousISO != nil || exists(OldBootFile) {
		t.Errorf("after restore: boots %s, recorded %s, previous %+v", bootID(), d.ISOVersion, d.PreviousISO)
	}
	if err := d.RestoreBootISO(ctx); err != nil {
		t.Errorf("a second restore: %v, want a no-op", err)
	}

	// Two replaces: the first kept ISO (the one that booted) stays kept.
	if err := d.ReplaceBootISO(ctx, newISO); err != nil {
		t.Fatal(err)
	}
	if err := d.ReplaceBootISO(ctx, newerISO); err != nil {
		t.Fatal(err)
	}
	if bootID() != "berth-os-v0.1.1" || d.PreviousISO.Version != "berth-os-v0.0.9" {
		t.Errorf("after two replaces: boots %s, previous %+v", bootID(), d.PreviousISO)
	}
	if id, _ := isocache.VolumeID(d.path(OldBootFile)); id != "berth-os-v0.0.9" {
		t.Errorf("boot.old.iso is %s, want the first one", id)
	}
	if err := d.CommitBootISO(ctx); err != nil {
		t.Fatal(err)
	}
	if bootID() != "berth-os-v0.1.1" || d.PreviousISO != nil || exists(OldBootFile) {
		t.Errorf("after commit: boots %s, previous %+v, old kept %v", bootID(), d.PreviousISO, exists(OldBootFile))
	}
	if err := d.CommitBootISO(ctx); err != nil {
		t.Errorf("a second commit: %v, want a no-op", err)
	}
}

// TestBootISOReplaceRefuses: an ISO of another architecture and a file
// that is no ISO leave the machine as it was.
func TestBootISOReplaceRefuses(t *testing.T) {
	d := newTestDriver(t, "vm")
	ctx := context.Background()
	if err := linkOrCopy(testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.0.9"), d.path(BootFile)); err != nil {
		t.Fatal(err)
	}
	d.ISOVersion = "berth-os-v0.0.9"
	notISO := filepath.Join(t.TempDir(), "x.iso")
	os.WriteFile(notISO, []byte("no"), 0o644)
	for _, tt := range []struct{ iso, want string }{
		{testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.1.0-arm64"), "is berth-os for arm64, and the machine is amd64"},
		{notISO, "too short"},
	} {
		err := d.ReplaceBootISO(ctx, tt.iso)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReplaceBootISO(%s) = %v, want %q", tt.iso, err, tt.want)
		}
	}
	if id, _ := isocache.VolumeID(d.BootISOPath()); id != "berth-os-v0.0.9" || d.ISOVersion != "berth-os-v0.0.9" || d.PreviousISO != nil {
		t.Errorf("after refused replaces: boots %s, recorded %s, previous %+v", id, d.ISOVersion, d.PreviousISO)
	}
	for _, f := range []string{OldBootFile, NewBootFile} {
		if _, err := os.Stat(d.path(f)); err == nil {
			t.Errorf("a refused replace left %s", f)
		}
	}
}
