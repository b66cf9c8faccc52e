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

// Sync makes the data reach the disk before the rename, so that after a
// power loss the file holds the old or the new content. It costs a disk
// flush; state that a reboot makes stale anyway goes without.
func Sync() Option { return func(o *options) { o.sync = true } }

// Write writes data to path through a temporary file in the same folder
// (".NAME.tmp-*", mode 0600) and a rename.
func Write(path string, data []byte, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
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
	return nil
}

// WriteJSON writes v as indented JSON, with Write.
func WriteJSON(path string, v any, opts ...Option) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return Write(path, append(b, '\n'), opts...)
}
