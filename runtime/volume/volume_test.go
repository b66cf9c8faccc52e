package volume

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testwait"
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
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("the store's folder holds %d entries after remove, want 3 (old, 0123abcd, the empty trash)", len(ents))
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, trashDir)); len(ents) != 0 {
		t.Errorf("the trash holds %d entries after remove, want none", len(ents))
	}
}

// TestRemoveDeletesOutsideTheLock: while a removed volume's data is being
// deleted, other volumes can be made and listed, and the removed one is
// gone from the list; the trash a killed agent left is emptied at Open.
func TestRemoveDeletesOutsideTheLock(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("big", nil); err != nil {
		t.Fatal(err)
	}
	deleting, release := make(chan string, 1), make(chan struct{})
	removeAll = func(p string) error { deleting <- p; <-release; return os.RemoveAll(p) }
	t.Cleanup(func() { removeAll = os.RemoveAll })
	removed := make(chan error, 1)
	go func() { removed <- s.Remove("big") }()
	trash := <-deleting
	made := make(chan error, 1)
	go func() { _, err := s.Create("other", nil); made <- err }()
	select {
	case err := <-made:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("creating a volume waited for another volume's data to be deleted")
	}
	list, err := s.List()
	if err != nil || len(list) != 1 || list[0].Name != "other" {
		t.Errorf("list while big is deleted = %+v, %v; want only other", list, err)
	}
	close(release)
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(trash); !os.IsNotExist(err) {
		t.Errorf("the removed volume's data is still at %s: %v", trash, err)
	}

	// A killed agent's trash, and the leftover of an older agent.
	removeAll = os.RemoveAll
	left := filepath.Join(dir, trashDir, "gone-123", "gone", "_data")
	if err := os.MkdirAll(left, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, ".old.removing", "_data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 10*time.Second, "the trash to be emptied", func() error {
		des, _ := os.ReadDir(filepath.Join(dir, trashDir))
		old, _ := filepath.Glob(filepath.Join(dir, ".*.removing"))
		if len(des)+len(old) > 0 {
			return fmt.Errorf("it holds %d entries and %d old removals", len(des), len(old))
		}
		return nil
	})
}
