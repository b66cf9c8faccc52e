// Package layer unpacks image layer tarballs into directories that serve as
// overlayfs lower dirs, refusing every entry that would land outside them.
package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Limits bound what one layer may hold, against tar and gzip bombs.
type Limits struct {
	// MaxBytes bounds the uncompressed size of the layer stream.
	MaxBytes int64
	// MaxEntries bounds the number of tar entries.
	MaxEntries int
	// AllowDevices lets character and block device entries through;
	// otherwise they are refused (FIFOs are always allowed).
	AllowDevices bool
}

// DefaultLimits suits the agent: 32 GiB and a million entries per layer.
var DefaultLimits = Limits{MaxBytes: 32 << 30, MaxEntries: 1 << 20}

// Result describes an unpacked layer.
type Result struct {
	// DiffID is the digest of the uncompressed tar stream ("sha256:...").
	DiffID string
	// Size is the sum of the regular files' sizes.
	Size int64
	// Entries is the number of tar entries read.
	Entries int
}

// ErrRefused marks an entry refused because it is unsafe or over a limit.
var ErrRefused = errors.New("refused")

// EntryError names the tar entry a failure is about.
type EntryError struct {
	Entry string
	Err   error
}

func (e *EntryError) Error() string { return fmt.Sprintf("entry %q: %v", e.Entry, e.Err) }
func (e *EntryError) Unwrap() error { return e.Err }

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrRefused}, args...)...)
}

// Whiteout names, from the OCI image-spec layer format.
const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
)

// Unpack reads a layer from r (gzip, zstd or plain tar, detected from its
// first bytes) into dir, an existing empty directory. Whiteouts become
// overlayfs whiteouts (0/0 character devices) and opaque markers become the
// trusted.overlay.opaque xattr. It refuses absolute names, names leaving
// dir, entries under a symlink, links leaving dir, devices unless allowed
// and layers over the limits. The whole stream is read so that DiffID
// covers it.
func Unpack(ctx context.Context, dir string, r io.Reader, lim Limits) (Result, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = DefaultLimits.MaxEntries
	}
	plain, closeFn, err := decompress(r)
	if err != nil {
		return Result{}, err
	}
	defer closeFn()
	h := sha256.New()
	cr := &cappedReader{r: io.TeeReader(plain, h), left: lim.MaxBytes}
	a, err := newApplier(dir, lim)
	if err != nil {
		return Result{}, err
	}
	defer a.close()
	res, err := unpackTar(ctx, a, cr, lim)
	if err != nil {
		return res, err
	}
	// Hash what follows the end-of-archive marker too: the DiffID covers
	// the whole stream.
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return res, fmt.Errorf("read layer tail: %w", err)
	}
	if err := a.finish(); err != nil {
		return res, err
	}
	res.DiffID = digestOf(h)
	return res, nil
}

func digestOf(h hash.Hash) string { return "sha256:" + hex.EncodeToString(h.Sum(nil)) }

func unpackTar(ctx context.Context, a *applier, r io.Reader, lim Limits) (Result, error) {
	var res Result
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return res, fmt.Errorf("read tar after %d entries: %w", res.Entries, err)
		}
		res.Entries++
		if res.Entries > lim.MaxEntries {
			return res, &EntryError{hdr.Name, refuse("more than %d entries in the layer", lim.MaxEntries)}
		}
		if err := applyEntry(a, hdr, tr, lim); err != nil {
			return res, &EntryError{hdr.Name, err}
		}
		if hdr.Typeflag == tar.TypeReg {
			res.Size += hdr.Size
		}
	}
}

// cleanName turns a tar entry name into a path relative to the layer root
// ("." for the root itself), refusing names that are absolute or leave it.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", refuse("empty name")
	}
	if strings.HasPrefix(name, "/") {
		return "", refuse("absolute name")
	}
	if strings.ContainsRune(name, 0) {
		return "", refuse("name holds a NUL byte")
	}
	c := path.Clean(name)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", refuse("name leaves the layer root")
	}
	return c, nil
}

func applyEntry(a *applier, hdr *tar.Header, body io.Reader, lim Limits) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	dir, base := path.Split(name)
	dir = strings.TrimSuffix(dir, "/")
	if base == opaqueMarker {
		return a.opaque(dir)
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		target := strings.TrimPrefix(base, whiteoutPrefix)
		if strings.HasPrefix(target, whiteoutPrefix) {
			return nil // other AUFS metadata (.wh..wh.plnk and the like)
		}
		if target == "" || target == "." || target == ".." {
			return refuse("whiteout without a name")
		}
		return a.whiteout(dir, target)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return a.mkdir(name, hdr)
	case tar.TypeReg:
		return a.file(name, hdr, body)
	case tar.TypeSymlink:
		if hdr.Linkname == "" {
			return refuse("symlink without a target")
		}
		return a.symlink(name, hdr)
	case tar.TypeLink:
		target, err := cleanName(hdr.Linkname)
		if err != nil {
			return fmt.Errorf("hardlink target %q: %w", hdr.Linkname, err)
		}
		if target == "." {
			return refuse("hardlink to the layer root")
		}
		return a.hardlink(name, target)
	case tar.TypeFifo:
		return a.special(name, hdr)
	case tar.TypeChar, tar.TypeBlock:
		if !lim.AllowDevices {
			return refuse("device node (devices are not allowed in layers here)")
		}
		return a.special(name, hdr)
	default:
		return refuse("unsupported tar entry type %q", string(hdr.Typeflag))
	}
}

// decompress detects gzip and zstd from the stream's magic bytes.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("read layer: %w", err)
	}
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("open gzip layer: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(64<<20), zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, nil, fmt.Errorf("open zstd layer: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

// cappedReader fails once more than left bytes were read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, refuse("layer is larger than the size limit")
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, refuse("layer is larger than the size limit")
	}
	return n, err
}
