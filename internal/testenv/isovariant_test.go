package testenv

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
)

// TestSetVolumeID makes an ISO with xorriso (Joliet on), changes its
// volume id, and reads it back in both descriptors.
func TestSetVolumeID(t *testing.T) {
	NeedCommand(t, "xorriso")
	dir := t.TempDir()
	os.WriteFile(dir+"/f", []byte("x"), 0o644)
	iso := t.TempDir() + "/a.iso"
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-V", "berth-os-v0.1.0", "-J", "-R", dir).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	if err := SetVolumeID(iso, "berth-os-v0.0.9"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(iso)
	if got := string(bytes.TrimRight(b[16*2048+40:16*2048+72], " ")); got != "berth-os-v0.0.9" {
		t.Errorf("primary volume id = %q", got)
	}
	joliet := []byte{0, 'b', 0, 'e', 0, 'r', 0, 't', 0, 'h', 0, '-', 0, 'o', 0, 's', 0, '-', 0, 'v', 0, '0', 0, '.', 0, '0', 0, '.', 0, '9'}
	if !bytes.Contains(b[17*2048:20*2048], joliet) {
		t.Error("the Joliet volume id was not changed")
	}
	out, err := exec.Command("xorriso", "-indev", iso, "-pvd_info").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("berth-os-v0.0.9")) {
		t.Errorf("xorriso -pvd_info: %v\n%s", err, out)
	}
}
