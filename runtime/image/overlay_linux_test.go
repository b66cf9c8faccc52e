//go:build !windows

package image

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

// TestLayersMountAsOverlay mounts the layered test image's layer folders
// as overlayfs lower dirs and checks what a container would see.
func TestLayersMountAsOverlay(t *testing.T) {
	s := openStore(t)
	reg := registry(t)
	res, err := s.Pull(context.Background(), reg.Host+"/layered", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	im, err := s.Resolve(res.ID)
	if err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	if err := unix.Mount("overlay", mnt, "overlay", unix.MS_RDONLY, "lowerdir="+im.LowerDir()); err != nil {
		testenv.Skip(t, "cannot mount overlayfs here: "+err.Error())
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join(mnt, p))
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	}
	if got := read("data/keep"); got != "keep" {
		t.Errorf("data/keep = %q", got)
	}
	if _, err := os.Lstat(filepath.Join(mnt, "data/gone")); !os.IsNotExist(err) {
		t.Errorf("data/gone is visible through the whiteout: %v", err)
	}
	des, _ := os.ReadDir(filepath.Join(mnt, "opaque"))
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "new" {
		t.Errorf("opaque/ holds %v, want only new", names)
	}
	if got := read("etc/motd"); got != "layer 3" {
		t.Errorf("etc/motd = %q, want the top layer's", got)
	}
	if got := read("links/sym"); got != "linked" {
		t.Errorf("links/sym reads %q", got)
	}
	if fi, err := os.Stat(filepath.Join(mnt, "bin/busybox")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/busybox from the bottom layer: %v, %v", fi, err)
	}
}
