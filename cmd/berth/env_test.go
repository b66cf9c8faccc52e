package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/berthvm/berth/internal/golden"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/shellenv"
)

// TestEnvGolden prints env and env --unset for every shell, for a fake
// machine whose host agent runs (its lock held by the test).
func TestEnvGolden(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	dir := filepath.Join(root, "machines", "dev")
	l := flock.New(filepath.Join(dir, hostagent.LockFile))
	if ok, err := l.TryLock(); !ok || err != nil {
		t.Fatalf("take the host agent lock: %v", err)
	}
	defer l.Unlock()
	for _, sh := range shellenv.Shells {
		for _, unset := range []bool{false, true} {
			args := []string{"env", "--shell", sh, "dev"}
			name := "env-" + sh
			if unset {
				args = []string{"env", "--shell", sh, "--unset"}
				name += "-unset"
			}
			got := strings.ReplaceAll(mustBerth(t, root, args...), root, "ROOT")
			golden.Assert(t, filepath.Join("testdata", name+".golden"), []byte(got))
		}
	}
}

func TestEnvErrors(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "dev")
	mustBerth(t, root, "stop", "dev")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"env", "dev"}, 1, "machine \"dev\" is Stopped, not running: start it with `berth start dev`"},
		{[]string{"env", "--shell", "ksh", "dev"}, 2, `unknown --shell "ksh"`},
		{[]string{"env", "nosuch"}, 4, `machine not found: "nosuch"`},
		{[]string{"url", "dev"}, 1, "berth start dev"},
	}
	for _, tt := range tests {
		r := berth(t, root, "", tt.args...)
		if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("berth %s: exit %d, stderr %q; want exit %d and %q", strings.Join(tt.args, " "), r.code, r.stderr, tt.code, tt.want)
		}
	}
}
