package container

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthvm/berth/runtime/seccomp"
)

// TestDefaultFilterFile: the runtime saves Docker's default profile,
// compiled, for its monitors; a damaged or missing file is compiled again.
func TestDefaultFilterFile(t *testing.T) {
	rt := newTestRuntime(t)
	want, err := seccomp.DefaultFilter()
	if err != nil {
		t.Fatal(err)
	}
	saved, err := os.ReadFile(filepath.Join(rt.dir, defaultFilterFile))
	if err != nil || !bytes.Equal(saved, want) {
		t.Fatalf("saved filter: %d bytes, %v; want the %d of seccomp.DefaultFilter", len(saved), err, len(want))
	}
	if got, err := readDefaultFilter(rt.dir); err != nil || !bytes.Equal(got, want) {
		t.Errorf("readDefaultFilter = %d bytes, %v", len(got), err)
	}
	for name, content := range map[string][]byte{"damaged": []byte("not a filter"), "empty": nil} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, defaultFilterFile), content, 0o600)
		if got, err := readDefaultFilter(dir); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s file: readDefaultFilter = %d bytes, %v; want the compiled filter", name, len(got), err)
		}
	}
	if got, err := readDefaultFilter(t.TempDir()); err != nil || !bytes.Equal(got, want) {
		t.Errorf("no file: readDefaultFilter = %d bytes, %v; want the compiled filter", len(got), err)
	}
}
