package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateStoresInsecureRegistries: --insecure-registry is kept in the
// machine's config (provisioning writes it onto the machine) and a bad one
// is refused before anything touches the disk.
func TestCreateStoresInsecureRegistries(t *testing.T) {
	root := t.TempDir()
	mustBerth(t, root, "create", "-d", "fake", "--insecure-registry", "10.0.2.2:5000", "--insecure-registry", "reg.local", "dev")
	out := mustBerth(t, root, "inspect", "--format", "{{json .InsecureRegistries}}", "dev")
	if want := `["10.0.2.2:5000","reg.local"]`; strings.TrimSpace(out) != want {
		t.Errorf("inspect shows insecure registries %s, want %s", out, want)
	}
	r := berth(t, root, "", "create", "-d", "fake", "--insecure-registry", "http://x:5000", "bad")
	if r.code != 2 || !strings.Contains(r.stderr, "invalid --insecure-registry") {
		t.Errorf("create with a bad registry: exit %d, stderr %q; want exit 2 naming the flag", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(root, "machines", "bad")); !os.IsNotExist(err) {
		t.Errorf("a refused create left %s/machines/bad (stat: %v)", root, err)
	}
}
