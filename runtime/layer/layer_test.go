//go:build !windows

package layer

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

// entry is one tar entry of a test layer.
type entry struct {
	name, link string
	typ        byte
	body       string
	mode       int64
	major      int64
}

func makeTar(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: e.typ, Mode: mode,
			ModTime: time.Unix(1700000000, 0), Devmajor: e.major, Format: tar.FormatPAX}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// sandbox returns a layer root inside a parent folder that also holds a
// decoy file, so escapes can be seen.
func sandbox(t *testing.T) (parent, root string) {
	parent = t.TempDir()
	root = filepath.Join(parent, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(parent, "decoy"), []byte("decoy"), 0o644); err != nil {
		t.Fatal(err)
	}
	return parent, root
}

// checkNothingOutside fails when the parent holds anything but root and
// the untouched decoy.
func checkNothingOutside(t *testing.T, parent string) {
	t.Helper()
	des, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range des {
		if de.Name() != "root" && de.Name() != "decoy" {
			t.Errorf("unpack wrote %s outside the layer root", de.Name())
		}
	}
	b, err := os.ReadFile(filepath.Join(parent, "decoy"))
	if err != nil || string(b) != "decoy" {
		t.Errorf("decoy outside the root changed: %q, %v", b, err)
	}
	fi, err := os.Lstat(filepath.Join(parent, "decoy"))
	if err == nil && fi.Mode().Perm() != 0o644 {
		t.Errorf("decoy mode changed to %v", fi.Mode())
	}
}

func TestUnpackGoodLayer(t *testing.T) {
	testenv.NeedRoot(t)
	parent, root := sandbox(t)
	raw := makeTar(t, []entry{
		{name: "./", typ: tar.TypeDir},
		{name: "bin/", typ: tar.TypeDir},
		{name: "bin/busybox", typ: tar.TypeReg, body: "ELF", mode: 0o4755},
		{name: "bin/sh", typ: tar.TypeSymlink, link: "busybox"},
		{name: "bin/ls", typ: tar.TypeLink, link: "bin/busybox"},
		{name: "etc/abs", typ: tar.TypeSymlink, link: "/etc/passwd"},
		{name: "etc/up", typ: tar.TypeSymlink, link: "../../../../etc/shadow"},
		{name: "etc/.wh.gone", typ: tar.TypeReg},
		{name: "var/cache/file", typ: tar.TypeReg, body: "x"},
		{name: "var/cache/.wh..wh..opq", typ: tar.TypeReg},
		{name: "tmp/fifo", typ: tar.TypeFifo},
		{name: "dup", typ: tar.TypeDir},
		{name: "dup", typ: tar.TypeReg, body: "now a file"},
	})
	res, err := Unpack(context.Background(), root, bytes.NewReader(gz(t, raw)), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if want := "sha256:" + hex.EncodeToString(sum[:]); res.DiffID != want {
		t.Errorf("DiffID = %s, want %s", res.DiffID, want)
	}
	if res.Entries != 13 {
		t.Errorf("Entries = %d, want 13", res.Entries)
	}
	fi, err := os.Lstat(filepath.Join(root, "bin/busybox"))
	if err != nil || fi.Mode()&os.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Errorf("bin/busybox mode = %v (%v), want setuid 0755", fi.Mode(), err)
	}
	if got, _ := os.Readlink(filepath.Join(root, "bin/sh")); got != "busybox" {
		t.Errorf("bin/sh -> %q, want busybox", got)
	}
	var a, b unix.Stat_t
	unix.Lstat(filepath.Join(root, "bin/busybox"), &a)
	unix.Lstat(filepath.Join(root, "bin/ls"), &b)
	if a.Ino != b.Ino {
		t.Errorf("bin/ls is not a hardlink of bin/busybox")
	}
	var w unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/gone"), &w); err != nil || w.Mode&unix.S_IFMT != unix.S_IFCHR || w.Rdev != 0 {
		t.Errorf("etc/gone is not a 0/0 whiteout: mode %o rdev %d err %v", w.Mode, w.Rdev, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "etc/.wh.gone")); !os.IsNotExist(err) {
		t.Errorf("whiteout file itself was written")
	}
	buf := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(root, "var/cache"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Errorf("var/cache opaque xattr = %q, %v; want y", buf[:n], err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "var/cache/file")); string(b) != "x" {
		t.Errorf("var/cache/file = %q, want x (opaque hides lower layers only)", b)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "dup")); string(b) != "now a file" {
		t.Errorf("dup = %q, want the later entry", b)
	}
	fi, err = os.Lstat(filepath.Join(root, "bin"))
	if err != nil || !fi.ModTime().Equal(time.Unix(1700000000, 0)) {
		t.Errorf("bin mtime = %v, want the header's", fi.ModTime())
	}
	checkNothingOutside(t, parent)
}

// TestUnpackHostile is the corpus of hostile layers: each is refused, with
// the offending entry named, and nothing lands outside the root.
func TestUnpackHostile(t *testing.T) {
	testenv.NeedRoot(t)
	big := strings.Repeat("A", 4096)
	tests := []struct {
		name      string
		entries   []entry
		lim       Limits
		wantEntry string
	}{
		{"absolute name", []entry{{name: "/decoy", typ: tar.TypeReg, body: "pwned"}}, Limits{}, "/decoy"},
		{"dotdot name", []entry{{name: "../decoy", typ: tar.TypeReg, body: "pwned"}}, Limits{}, "../decoy"},
		{"dotdot inside", []entry{{name: "a/../../decoy", typ: tar.TypeReg, body: "pwned"}}, Limits{}, "a/../../decoy"},
		{"symlink parent out", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: ".."},
			{name: "evil/decoy", typ: tar.TypeReg, body: "pwned"}}, Limits{}, "evil/decoy"},
		{"absolute symlink parent", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: "/tmp"},
			{name: "evil/x", typ: tar.TypeReg, body: "pwned"}}, Limits{}, "evil/x"},
		{"symlink then directory through it", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: ".."},
			{name: "evil/newdir/", typ: tar.TypeDir}}, Limits{}, "evil/newdir/"},
		{"chmod through symlink (CVE-2021-32760)", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: "../decoy"},
			{name: "evil/", typ: tar.TypeDir, mode: 0o777},
			{name: "evil/x", typ: tar.TypeReg}}, Limits{}, ""}, // replaced, never followed
		{"hardlink out", []entry{{name: "h", typ: tar.TypeLink, link: "../decoy"}}, Limits{}, "h"},
		{"hardlink absolute", []entry{{name: "h", typ: tar.TypeLink, link: "/etc/passwd"}}, Limits{}, "h"},
		{"hardlink through symlink", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: ".."},
			{name: "h", typ: tar.TypeLink, link: "evil/decoy"}}, Limits{}, "h"},
		{"whiteout through symlink", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: ".."},
			{name: "evil/.wh.decoy", typ: tar.TypeReg}}, Limits{}, "evil/.wh.decoy"},
		{"opaque through symlink", []entry{
			{name: "evil", typ: tar.TypeSymlink, link: ".."},
			{name: "evil/.wh..wh..opq", typ: tar.TypeReg}}, Limits{}, "evil/.wh..wh..opq"},
		{"whiteout of parent", []entry{{name: "a/.wh...", typ: tar.TypeReg}}, Limits{}, "a/.wh..."},
		{"device node", []entry{{name: "dev/sda", typ: tar.TypeBlock, major: 8}}, Limits{}, "dev/sda"},
		{"char device", []entry{{name: "dev/mem", typ: tar.TypeChar, major: 1}}, Limits{}, "dev/mem"},
		{"too many entries", []entry{
			{name: "a", typ: tar.TypeReg}, {name: "b", typ: tar.TypeReg}, {name: "c", typ: tar.TypeReg}},
			Limits{MaxEntries: 2}, "c"},
		{"too large", []entry{{name: "a", typ: tar.TypeReg, body: big}}, Limits{MaxBytes: 1024}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent, root := sandbox(t)
			_, err := Unpack(context.Background(), root, bytes.NewReader(makeTar(t, tt.entries)), tt.lim)
			if tt.wantEntry == "" {
				if err != nil {
					t.Errorf("Unpack: %v, want the symlink replaced by the directory", err)
				}
				checkNothingOutside(t, parent)
				return
			}
			if err == nil {
				t.Fatal("Unpack succeeded, want it refused")
			}
			var ee *EntryError
			if !errors.As(err, &ee) || ee.Entry != tt.wantEntry {
				t.Errorf("error %q does not name entry %q", err, tt.wantEntry)
			}
			checkNothingOutside(t, parent)
		})
	}
}

func TestUnpackGzipBomb(t *testing.T) {
	testenv.NeedRoot(t)
	parent, root := sandbox(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "bomb", Typeflag: tar.TypeReg, Size: 64 << 20, Mode: 0o644})
	zero := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		tw.Write(zero)
	}
	tw.Close()
	zw.Close()
	_, err := Unpack(context.Background(), root, &buf, Limits{MaxBytes: 8 << 20})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("Unpack of a 64 MiB bomb with an 8 MiB limit: err = %v, want refused", err)
	}
	var st unix.Statfs_t
	unix.Statfs(root, &st)
	fi, _ := os.Stat(filepath.Join(root, "bomb"))
	if fi != nil && fi.Size() > 8<<20 {
		t.Errorf("bomb grew to %d bytes", fi.Size())
	}
	checkNothingOutside(t, parent)
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"./", ".", false},
		{"./bin/sh", "bin/sh", false},
		{"a/b/../c", "a/c", false},
		{"/etc", "", true},
		{"..", "", true},
		{"a/../../b", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := cleanName(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("cleanName(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
