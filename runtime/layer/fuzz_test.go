//go:build !windows

package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// FuzzUnpack feeds arbitrary bytes to the unpacker: it may refuse them,
// but it must not panic nor write outside the layer root.
func FuzzUnpack(f *testing.F) {
	f.Add(makeTar(f, []entry{{name: "a/b", typ: tar.TypeReg, body: "x"}, {name: "l", typ: tar.TypeSymlink, link: "a"}}))
	f.Add(makeTar(f, []entry{{name: "evil", typ: tar.TypeSymlink, link: ".."}, {name: "evil/x", typ: tar.TypeReg}}))
	f.Add(makeTar(f, []entry{{name: "d/.wh..wh..opq", typ: tar.TypeReg}, {name: "d/.wh.x", typ: tar.TypeReg}}))
	f.Add(makeTar(f, []entry{{name: "h", typ: tar.TypeLink, link: "../x"}}))
	f.Add(gz(f, makeTar(f, []entry{{name: "f", typ: tar.TypeReg, body: "gz"}})))
	f.Fuzz(func(t *testing.T, data []byte) {
		testenv.NeedRoot(t)
		parent, root := sandbox(t)
		Unpack(context.Background(), root, bytes.NewReader(data), Limits{MaxBytes: 1 << 20, MaxEntries: 100})
		checkNothingOutside(t, parent)
		// Nothing under root may be a link that unpacking followed: every
		// path must stay within root once symlinks are not followed.
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if rel, rerr := filepath.Rel(parent, p); rerr != nil || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
				t.Errorf("walked outside: %s", p)
			}
			return nil
		})
	})
}
