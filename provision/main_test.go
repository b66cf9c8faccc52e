package provision_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// agents are berth-agent builds for this host's architecture with two
// different versions, for provisioning and upgrade tests.
var agents = map[string]string{"1.0.0-test": "", "2.0.0-test": ""}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "provision-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for v := range agents {
		out := filepath.Join(dir, "berth-agent-"+v)
		build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X github.com/berthvm/berth/internal/version.Version="+v, "-o", out, "../cmd/berth-agent")
		build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
		if b, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build berth-agent %s: %v\n%s", v, err, b)
			os.Exit(1)
		}
		agents[v] = out
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
