package isocache

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Import copies the ISO at src into the cache under its version (its
// volume id) and returns the cached path. A cached copy with the same size
// and modification time is reused.
func (c *Cache) Import(src string) (string, error) {
	id, err := VolumeID(src)
	if err != nil {
		return "", fmt.Errorf("import iso: %w", err)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return "", fmt.Errorf("import iso: %w", err)
	}
	dst := filepath.Join(c.Dir, cacheName(id))
	if have, err := os.Stat(dst); err == nil && have.Size() == fi.Size() && have.ModTime().Equal(fi.ModTime()) {
		return dst, nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", fmt.Errorf("import iso: %w", err)
	}
	if err := copyFile(src, dst, fi); err != nil {
		return "", fmt.Errorf("import iso %s into the cache: %w", src, err)
	}
	return dst, nil
}

// copyFile copies src to dst through a temporary file, so that dst is
// either the old file or the whole new one, and gives dst src's mtime.
func copyFile(src, dst string, fi os.FileInfo) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".import-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}
