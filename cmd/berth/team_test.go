package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/machine"
)

// TestTeamCommandsBadFile: every team command refuses a bad berth.yaml
// with its file, line and key, and changes nothing.
func TestTeamCommandsBadFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(t.TempDir(), "shop")
	writeFile(t, filepath.Join(dir, "app.yaml"), "services:\n  web:\n    image: busybox\n")
	writeFile(t, filepath.Join(dir, "berth.yaml"), "machines:\n  app:\n    compose: app.yaml\n    memory: 2 gigs\n    depends-on: [db]\n")
	file := filepath.Join(dir, "berth.yaml")
	for _, args := range [][]string{{"up", "--wait"}, {"plan"}, {"down"}, {"lock"}} {
		r := berth(t, root, "", append(args, "-f", file)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, file+":4: machines.app.memory: \"2 gigs\" is not a size") ||
			!strings.Contains(r.stderr, file+":5: machines.app.depends-on: unknown machine \"db\"") {
			t.Errorf("berth %s: exit %d\n%s", args[0], r.code, r.stderr)
		}
	}
	r := berth(t, root, "", "plan", "-f", filepath.Join(dir, "nope.yaml"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "nope.yaml does not exist") {
		t.Errorf("plan -f of a missing file: exit %d\n%s", r.code, r.stderr)
	}
	if names, _ := machine.NewStore(root).Names(); len(names) != 0 {
		t.Errorf("machines after bad files: %v", names)
	}
	// A good file: plan of an environment with no machines yet.
	writeFile(t, file, "machines:\n  app:\n    driver: fake\n    compose: app.yaml\n")
	if got := mustBerth(t, root, "plan", "-f", file); !strings.Contains(got, "machine app:\n  + machine create\n  + service web: create") {
		t.Errorf("plan of a new environment = %q", got)
	}
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(filepath.Join(dir))
	if got := mustBerth(t, root, "plan"); !strings.Contains(got, "+ machine create") {
		t.Errorf("plan found no berth.yaml in the working folder: %q", got)
	}
}
