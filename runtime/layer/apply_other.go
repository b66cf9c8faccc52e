//go:build !linux

package layer

import (
	"archive/tar"
	"errors"
	"io"
)

var errNotLinux = errors.New("unpacking layers needs Linux (overlayfs whiteouts and xattrs)")

type applier struct{}

func newApplier(string, Limits) (*applier, error)          { return nil, errNotLinux }
func (*applier) close()                                    {}
func (*applier) finish() error                             { return errNotLinux }
func (*applier) mkdir(string, *tar.Header) error           { return errNotLinux }
func (*applier) file(string, *tar.Header, io.Reader) error { return errNotLinux }
func (*applier) symlink(string, *tar.Header) error         { return errNotLinux }
func (*applier) hardlink(string, string) error             { return errNotLinux }
func (*applier) special(string, *tar.Header) error         { return errNotLinux }
func (*applier) whiteout(string, string) error             { return errNotLinux }
func (*applier) opaque(string) error                       { return errNotLinux }
