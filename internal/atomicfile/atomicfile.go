// Package atomicfile replaces files whole: a reader sees the old content
// or the new one, never a part of either.
package atomicfile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

type options struct {
	sync bool
}

// Option changes how Write writes.
type Option func(*options)

// Sync makes the data reach the disk before the rename, and the rename
// reach it after (a best-effort sync of the folder), so that after a power
// loss the file holds the old or the new content. It costs disk flushes;
// state that a reboot makes stale anyway goes without.
func Sync() Option { return func(o *options) { o.sync = true } }

// Write writes data to path through a temporary file in the same folder
// (".NAME.tmp-*", mode 0600) and a rename.
func Write(path string, data []byte, opts ...Option) error {
	return WriteFile(path, data, 0o600, opts...)
}

// WriteFile is Write for a file of mode perm: like os.WriteFile, but a
// reader never sees part of data. perm is set as given, not masked by the
// umask.
func WriteFile(path string, data []byte, perm os.FileMode, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	if perm != 0o600 { // CreateTemp's mode
		err = f.Chmod(perm)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil && o.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if o.sync {
		// Not every system can (Windows cannot open a folder for it):
		// the data is already safe, so the error is dropped.
		SyncDir(filepath.Dir(path))
	}
	return nil
}

// SyncDir flushes dir's entries (files made, renamed or removed in it)
// to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// WriteJSON writes v as indented JSON, with Write.
func WriteJSON(path string, v any, opts ...Option) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return Write(path, append(b, '\n'), opts...)
}
