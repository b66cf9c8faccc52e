//go:build !windows

package image

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRemoveDeletesOutsideTheLock: while the layers of a removed image are
// deleted, the store answers (list, load); once done, nothing of the image
// is left, and its trash would be emptied at Open.
func TestRemoveDeletesOutsideTheLock(t *testing.T) {
	s := openStore(t)
	loadBusybox(t, s)
	deleting, release := make(chan string, 1), make(chan struct{})
	removeAll = func(p string) error { deleting <- p; <-release; return os.RemoveAll(p) }
	t.Cleanup(func() { removeAll = os.RemoveAll })
	removed := make(chan error, 1)
	go func() { _, err := s.Remove("example.com/busybox:1", false); removed <- err }()
	trash := <-deleting
	listed := make(chan []Summary, 1)
	go func() { listed <- s.List() }()
	select {
	case l := <-listed:
		if len(l) != 0 {
			t.Errorf("list while the removed image's layers are deleted: %+v, want none", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listing images waited for a removed image's layers to be deleted")
	}
	close(release)
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{trash, filepath.Join(s.Root(), "layers"), filepath.Join(s.Root(), "tmp")} {
		if des, err := os.ReadDir(d); err == nil && len(des) > 0 {
			t.Errorf("%s still holds %d entries after the removal", d, len(des))
		}
	}
}

// TestVerify: a whole store verifies; a damaged blob, a missing layer and
// a tag without its image are each named.
func TestVerify(t *testing.T) {
	s := openStore(t)
	loadBusybox(t, s)
	if err := s.Verify(); err != nil {
		t.Fatalf("a fresh store: %v", err)
	}
	im, err := s.Resolve("example.com/busybox:1")
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	rec := s.idx.Images[im.ID]
	layer := rec.Layers[0]
	s.idx.Tags["example.com/ghost:1"] = "sha256:" + strings.Repeat("0", 64)
	s.mu.Unlock()
	f, err := os.OpenFile(s.blobPath(layer.Digest), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	if err := os.Rename(s.layerPath(layer.DiffID), s.layerPath(layer.DiffID)+".gone"); err != nil {
		t.Fatal(err)
	}
	err = s.Verify()
	for _, want := range []string{"ghost", "blob " + layer.Digest + " holds", "layer " + layer.DiffID + " is not unpacked"} {
		if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("Verify of a damaged store = %v, want ErrCorrupt naming %q", err, want)
		}
	}
}
