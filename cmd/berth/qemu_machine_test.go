package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/berthvm/berth/agentbin"
	"github.com/berthvm/berth/internal/testenv"
)

// qemuMachine creates, through the CLI, a berth-os machine called name in
// QEMU (TCG, 1 CPU, 768 MB) whose agent is built from this tree, and
// returns the store's root. The machine is killed when the test ends.
func qemuMachine(t *testing.T, name string) (root string) {
	t.Helper()
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	agent := filepath.Join(t.TempDir(), "berth-agent")
	build := exec.Command("go", "build", "-o", agent, "./cmd/berth-agent")
	build.Dir = testenv.RepoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the agent: %v\n%s", err, out)
	}
	agentBinary = func(unameM string) (*agentbin.Binary, error) { return agentbin.FromFile(agent, runtime.GOARCH) }
	t.Cleanup(func() { agentBinary = nil })
	withSteps(t, wiredSteps)
	root = t.TempDir()
	killOnCleanup(t, root, name)
	mustBerth(t, root, "create", "-d", "qemu", "--qemu-iso", iso, "--qemu-accel", "tcg",
		"--qemu-cpus", "1", "--qemu-memory", "768", "--qemu-disk-size", "1000", name)
	return root
}
