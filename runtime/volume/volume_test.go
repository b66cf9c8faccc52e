package volume

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Create("data", map[string]string{"a": "b"})
	if err != nil || v.Mountpoint != filepath.Join(dir, "data", "_data") || v.Labels["a"] != "b" {
		t.Fatalf("create: %+v, %v", v, err)
	}
	if again, err := s.Create("data", nil); err != nil || again.Labels["a"] != "b" || !again.CreatedAt.Equal(v.CreatedAt) {
		t.Errorf("create of an existing volume: %+v, %v; want it unchanged", again, err)
	}
	// A volume made before volumes had metadata: its folder alone.
	if err := os.MkdirAll(filepath.Join(dir, "old", "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	anon, err := s.Create("0123abcd", map[string]string{AnonymousLabel: ""})
	if err != nil || !anon.Anonymous() {
		t.Fatalf("anonymous: %+v, %v", anon, err)
	}
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range list {
		names = append(names, v.Name)
	}
	if got := filepath.Join(names...); got != filepath.Join("0123abcd", "data", "old") {
		t.Errorf("list = %v, want 0123abcd data old", names)
	}
	for _, bad := range []string{"a", "../x", "a/b", "-x", ".hidden"} {
		if _, err := s.Create(bad, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("create %q: %v, want ErrInvalidName", bad, err)
		}
		if _, err := s.Get(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("get %q: %v, want ErrNotFound", bad, err)
		}
	}
	if err := s.Remove("data"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("get after remove: %v, want ErrNotFound", err)
	}
	if err := s.Remove("data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("remove twice: %v, want ErrNotFound", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("the store's folder holds %d entries after remove, want 2 (old, 0123abcd)", len(ents))
	}
}
