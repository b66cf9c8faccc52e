//go:build linux

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
)

// TestQEMUProvision creates a berth-os machine through the CLI: create
// provisions the embedded agent into berth-os's slot, ls shows its
// version, provision and upgrade of the same agent change nothing, rm
// removes the VM.
func TestQEMUProvision(t *testing.T) {
	want := embeddedAgentVersion(t)
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	withAgentHooks(t)
	root := t.TempDir()
	killOnCleanup(t, root, "vm")

	start := time.Now()
	mustBerth(t, root, "create", "-d", "qemu", "--qemu-iso", iso, "--qemu-accel", "tcg",
		"--qemu-cpus", "1", "--qemu-memory", "768", "--qemu-disk-size", "1000", "vm")
	t.Logf("create -d qemu (boot, SSH, provisioning) took %s", time.Since(start).Round(time.Millisecond))

	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}} {{.Agent}}"); strings.TrimSpace(got) != "vm Running "+want {
		t.Errorf("ls = %q, want %q", got, "vm Running "+want)
	}
	start = time.Now()
	out := mustBerth(t, root, "provision", "vm")
	t.Logf("provision of a provisioned VM took %s", time.Since(start).Round(time.Millisecond))
	if !strings.Contains(out, "already in place") {
		t.Errorf("provision again = %q, want 'already in place'", out)
	}
	if got := mustBerth(t, root, "inspect", "--format", "{{.Agent.Health.version}} {{.Agent.Health.cgroupV2}} {{.Agent.Health.overlay}}", "vm"); strings.TrimSpace(got) != want+" true true" {
		t.Errorf("inspect agent health = %q, want %q", got, want+" true true")
	}
	mustBerth(t, root, "rm", "-y", "vm")
}
