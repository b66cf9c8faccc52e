//go:build !windows

package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEphemeralHold: an ephemeral holder keeps the image like any other
// (removal refused, listed as a user) but never reaches the index file,
// not even when something else saves it, and its release writes nothing;
// a store opened again has no trace of it.
func TestEphemeralHold(t *testing.T) {
	root := filepath.Join(t.TempDir(), "store")
	s, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	loadBusybox(t, s)
	img, err := s.UseEphemeral("example.com/busybox:1", "e1e1e1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Use(img.ID, "d0d0d0"); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag("example.com/busybox:1", "example.com/busybox:2"); err != nil {
		t.Fatal(err) // a save of the index with both holders in memory
	}
	index := filepath.Join(root, "index.json")
	b, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "e1e1e1") || !strings.Contains(string(b), "d0d0d0") {
		t.Errorf("index.json holds %s; want the lasting holder only", b)
	}
	if l := s.List(); len(l) != 1 || len(l[0].Users) != 2 {
		t.Errorf("List = %+v, want one image with both holders", l)
	}
	if err := s.Release(img.ID, "d0d0d0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove("example.com/busybox:2", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove("example.com/busybox:1", false); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "e1e1e1") {
		t.Errorf("Remove of an image an ephemeral holder uses: %v, want a conflict naming it", err)
	}
	before, _ := os.Stat(index)
	if err := s.Release(img.ID, "e1e1e1"); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(index); !os.SameFile(before, after) {
		t.Error("the release of an ephemeral holder rewrote index.json")
	}
	s.Close()
	s2, err := Open(root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if l := s2.List(); len(l) != 1 || len(l[0].Users) != 0 {
		t.Errorf("List after reopening = %+v, want the image without holders", l)
	}
}
