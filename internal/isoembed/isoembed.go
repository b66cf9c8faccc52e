// Package isoembed holds the berth-os ISO a berth binary carries: the one
// of its own architecture, gzip-compressed, embedded by `make build`.
package isoembed

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// ErrNotEmbedded means this berth was built without a berth-os ISO (a
// plain `go build` or `go install`); it downloads one instead.
var ErrNotEmbedded = errors.New("this berth carries no berth-os ISO")

// ISO is the embedded berth-os ISO.
type ISO struct {
	Arch     string // GOARCH of the guest: amd64 or arm64
	VolumeID string // berth-os-vX.Y.Z[-arm64]
	SHA256   string // hex, of the uncompressed ISO
	gz       []byte
}

// Open returns a reader of the uncompressed ISO.
func (i *ISO) Open() (io.ReadCloser, error) {
	return gzip.NewReader(bytes.NewReader(i.gz))
}

// Get returns the embedded ISO, or ErrNotEmbedded.
func Get() (*ISO, error) {
	return Load(files, arch)
}

// Info returns the embedded ISO's architecture, volume id and SHA-256
// without reading the ISO itself (which Get copies out of the binary), or
// ErrNotEmbedded. Its Open must not be called.
func Info() (*ISO, error) {
	return LoadInfo(files, arch)
}

// LoadInfo is Load without the ISO's bytes: it reads only the .sha256
// line of the ISO of arch in fsys.
func LoadInfo(fsys fs.FS, arch string) (*ISO, error) {
	dir := "files/" + arch + "/"
	if _, err := fs.Stat(fsys, dir+"berth-os.iso.gz"); errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEmbedded
	} else if err != nil {
		return nil, err
	}
	return loadSum(fsys, arch, nil)
}

// Load reads the ISO of arch from fsys (files/ARCH/berth-os.iso.gz and
// its .sha256 line "SHA256 VOLUME-ID").
func Load(fsys fs.FS, arch string) (*ISO, error) {
	dir := "files/" + arch + "/"
	gz, err := fs.ReadFile(fsys, dir+"berth-os.iso.gz")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotEmbedded
	}
	if err != nil {
		return nil, err
	}
	return loadSum(fsys, arch, gz)
}

// loadSum reads the .sha256 line of the ISO of arch.
func loadSum(fsys fs.FS, arch string, gz []byte) (*ISO, error) {
	sum, err := fs.ReadFile(fsys, "files/"+arch+"/berth-os.iso.sha256")
	if err != nil {
		return nil, fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	f := strings.Fields(string(sum))
	if len(f) != 2 || len(f[0]) != 64 {
		return nil, fmt.Errorf("embedded berth-os ISO: bad checksum line %q (want \"SHA256 VOLUME-ID\")", sum)
	}
	return &ISO{Arch: arch, SHA256: f[0], VolumeID: f[1], gz: gz}, nil
}
