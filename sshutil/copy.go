package sshutil

import (
	"context"
	"fmt"
	"io"
	"io/fs"
)

// FS is a file tree Copy reads from or writes to: LocalFS or a machine's
// RemoteFS.
type FS interface {
	fmt.Stringer
	Stat(name string) (fs.FileInfo, error)
	ReadDir(name string) ([]fs.FileInfo, error)
	Open(name string) (io.ReadCloser, error)
	MkdirAll(name string, perm fs.FileMode) error
	WriteFile(ctx context.Context, name string, src io.Reader, perm fs.FileMode) error
	Join(elem ...string) string
	Base(name string) string
}

// Copy copies src in from to dst in to, like cp and scp: when dst is an
// existing folder the copy lands inside it under src's name; folders need
// recursive. Files are written through a temporary name and a rename and
// keep their permission bits. Symlinks are followed.
func Copy(ctx context.Context, from FS, src string, to FS, dst string, recursive bool) error {
	st, err := from.Stat(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", describe(from, src), err)
	}
	if dst == "" {
		dst = "."
	}
	if dstSt, err := to.Stat(dst); err == nil && dstSt.IsDir() {
		dst = to.Join(dst, from.Base(src))
	}
	if st.IsDir() && !recursive {
		return fmt.Errorf("copy %s: it is a folder (copy folders with -r)", describe(from, src))
	}
	return copyAny(ctx, from, src, st, to, dst)
}

func copyAny(ctx context.Context, from FS, src string, st fs.FileInfo, to FS, dst string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("copy %s: %w", describe(from, src), err)
	}
	switch {
	case st.IsDir():
		if err := to.MkdirAll(dst, st.Mode().Perm()|0o700); err != nil {
			return fmt.Errorf("copy %s: make folder %s: %w", describe(from, src), describe(to, dst), err)
		}
		entries, err := from.ReadDir(src)
		if err != nil {
			return fmt.Errorf("copy %s: %w", describe(from, src), err)
		}
		for _, e := range entries {
			name := from.Join(src, e.Name())
			if e.Mode()&fs.ModeSymlink != 0 {
				if e, err = from.Stat(name); err != nil {
					return fmt.Errorf("copy %s: %w", describe(from, name), err)
				}
			}
			if err := copyAny(ctx, from, name, e, to, to.Join(dst, e.Name())); err != nil {
				return err
			}
		}
		return nil
	case st.Mode().IsRegular():
		r, err := from.Open(src)
		if err != nil {
			return fmt.Errorf("copy %s: %w", describe(from, src), err)
		}
		defer r.Close()
		if err := to.WriteFile(ctx, dst, r, st.Mode().Perm()); err != nil {
			return fmt.Errorf("copy %s to %s: %w", describe(from, src), describe(to, dst), err)
		}
		return nil
	default:
		return fmt.Errorf("copy %s: not a regular file or folder (%s)", describe(from, src), st.Mode().Type())
	}
}

func describe(f FS, name string) string {
	if _, ok := f.(LocalFS); ok {
		return name
	}
	return f.String() + ":" + name
}
