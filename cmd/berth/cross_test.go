package main

import (
	"os"
	"os/exec"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestCrossBuild builds the CLI for every platform berth's users are on
// (make cross), so that Linux-only code in a package the CLI imports is
// caught by `make test`.
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: cross builds take a while")
	}
	testenv.NeedCommand(t, "go")
	for _, p := range []struct{ goos, goarch string }{
		{"darwin", "amd64"}, {"darwin", "arm64"}, {"windows", "amd64"}, {"linux", "arm64"},
	} {
		cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.goos, "GOARCH="+p.goarch)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("berth for %s/%s: %v\n%s", p.goos, p.goarch, err, out)
		}
	}
}
