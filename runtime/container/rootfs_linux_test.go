package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/testenv"
)

// A container whose layer paths are longer than fsconfig takes (256
// bytes: a few layers under /var/lib/berth) still opens, read-only and
// writable, and sees every layer.
func TestDetachedOverlayManyLayers(t *testing.T) {
	testenv.NeedRoot(t)
	base := t.TempDir()
	var lowers []string
	for i := 0; i < 8; i++ {
		l := filepath.Join(base, "layers", fmt.Sprintf("sha256-%064d", i))
		if err := os.MkdirAll(l, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(l, fmt.Sprintf("f%d", i)), []byte("layer"), 0o644); err != nil {
			t.Fatal(err)
		}
		lowers = append(lowers, l)
	}
	if n := len(strings.Join(lowers, ":")); n < fsconfigMax {
		t.Fatalf("the layer list is %d bytes, not more than fsconfig takes", n)
	}
	dir := filepath.Join(base, "c")
	for _, d := range []string{"upper", "work"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "upper", "changed"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, writable := range []bool{false, true} {
		fd, err := mountDetachedOverlay(lowers, dir, writable)
		if err != nil {
			t.Fatalf("writable %v: %v", writable, err)
		}
		for _, name := range []string{"f0", "f7", "changed"} {
			if _, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_CLOEXEC, 0); err != nil {
				t.Errorf("writable %v: open %s in the overlay: %v", writable, name, err)
			}
		}
		unix.Close(fd)
		if des, _ := os.ReadDir(dir); len(des) != 2 {
			t.Errorf("writable %v: the container's folder holds %d entries, want upper and work only", writable, len(des))
		}
	}
}
