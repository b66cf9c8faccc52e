package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseInsecureRegistries(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{""}, nil, false},
		{[]string{"10.0.2.2:5000"}, []string{"10.0.2.2:5000"}, false},
		{[]string{"registry.local", " [::1]:5000 "}, []string{"registry.local", "[::1]:5000"}, false},
		{[]string{"http://10.0.2.2:5000"}, nil, true},
		{[]string{"host/path"}, nil, true},
		{[]string{"host:0"}, nil, true},
		{[]string{"host:99999"}, nil, true},
		{[]string{"a b"}, nil, true},
		{[]string{"ok:1", "bad'quote"}, nil, true},
	}
	for _, tt := range tests {
		got, err := parseInsecureRegistries(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseInsecureRegistries(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

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
