package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/version"
	"github.com/berthvm/berth/provision/agentbin"
)

// qemuMachine creates, through the CLI, a berth-os machine called name in
// QEMU (TCG, 1 CPU, 768 MB) whose agent is built from this tree, and
// returns the store's root. extra are more create flags. The machine is
// killed when the test ends.
func qemuMachine(t *testing.T, name string, extra ...string) (root string) {
	t.Helper()
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	treeAgent(t)
	root = t.TempDir()
	killOnCleanup(t, root, name)
	args := []string{"create", "-d", "qemu", "--qemu-iso", iso, "--qemu-accel", "tcg",
		"--qemu-cpus", "1", "--qemu-memory", "768", "--qemu-disk-size", "1000"}
	mustBerth(t, root, append(append(args, extra...), name)...)
	return root
}

// treeAgent makes create provision, for the rest of the test, an agent
// built from this tree, with every create step wired.
func treeAgent(t *testing.T) {
	t.Helper()
	agent := testenv.NeedAgent(t, version.Version)
	agentBinary = func(unameM string) (*agentbin.Binary, error) {
		arch, err := agentbin.GoArch(unameM)
		if err != nil || arch == runtime.GOARCH {
			return agentbin.FromFile(agent, runtime.GOARCH)
		}
		other, err := testenv.AgentFor(version.Version, arch)
		if err != nil {
			return nil, err
		}
		return agentbin.FromFile(other, arch)
	}
	t.Cleanup(func() { agentBinary = nil })
	withSteps(t, wiredSteps)
}

// buildLinux builds the static Linux program pkg (a path in this
// repository, "./cmd/x") for this architecture and returns its path.
func buildLinux(t *testing.T, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	build := exec.Command("go", "build", "-o", out, pkg)
	build.Dir = testenv.RepoRoot(t)
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, b)
	}
	return out
}
