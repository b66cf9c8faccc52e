package atomicfile

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestWrite: the file is replaced whole with mode 0600, no temporary file
// stays, and a failed write leaves the old content.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := Write(path, []byte("old"), Sync()); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(path, map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "{\n  \"a\": 1\n}\n" {
		t.Fatalf("content %q, %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if err := WriteJSON(path, func() {}); err == nil {
		t.Error("a value JSON cannot hold was written")
	}
	if err := Write(filepath.Join(dir, "missing", "x"), []byte("x")); err == nil {
		t.Error("a write into a missing folder succeeded")
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("files left: %v", des)
	}
	if b, _ := os.ReadFile(path); string(b) != "{\n  \"a\": 1\n}\n" {
		t.Errorf("a failed write changed the file: %q", b)
	}
}

// TestWriteFile: the file gets the mode asked for, whatever the umask, and
// replaces the old one whole.
func TestWriteFile(t *testing.T) {
	tests := []struct {
		name string
		perm os.FileMode
		opts []Option
	}{
		{"private", 0o600, nil},
		{"public", 0o644, nil},
		{"public, synced", 0o644, []Option{Sync()}},
		{"read-only", 0o400, []Option{Sync()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "key.pub")
			if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(path, []byte("new\n"), tt.perm, tt.opts...); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != "new\n" {
				t.Errorf("content %q, %v; want %q", b, err, "new\n")
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); runtime.GOOS != "windows" && got != tt.perm {
				t.Errorf("mode %v, want %v", got, tt.perm)
			}
			if des, _ := os.ReadDir(dir); len(des) != 1 {
				t.Errorf("files left: %v, want only key.pub", des)
			}
		})
	}
}
