package isocache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/berthvm/berth/internal/isoembed"
)

// embeddedISO is the ISO this berth carries; tests replace it.
var embeddedISO = isoembed.Get

// embedded puts the berth-os ISO this berth carries into the cache (once)
// and returns it: "" when berth carries none or one of another
// architecture than c.Arch. The copy is checked against the SHA-256
// recorded at build time, when it is made and every time it is used.
func (c *Cache) embedded() (string, error) {
	iso, err := embeddedISO()
	if errors.Is(err, isoembed.ErrNotEmbedded) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if iso.Arch != archOr(c.Arch) {
		return "", nil
	}
	dst := filepath.Join(c.Dir, cacheName(iso.VolumeID))
	if sum, err := SHA256File(dst); err == nil && sum == iso.SHA256 {
		return dst, nil
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	tmp, err := os.CreateTemp(c.Dir, ".embedded-*.iso")
	if err != nil {
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	defer os.Remove(tmp.Name())
	r, err := iso.Open()
	if err != nil {
		tmp.Close()
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), r)
	r.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != iso.SHA256 {
		return "", fmt.Errorf("embedded berth-os ISO: checksum mismatch: got sha256 %s, want %s (this berth binary is damaged: download it again)", got, iso.SHA256)
	}
	if id, err := VolumeID(tmp.Name()); err != nil || id != iso.VolumeID {
		return "", fmt.Errorf("embedded berth-os ISO: volume id %q (%v), want %q", id, err, iso.VolumeID)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("embedded berth-os ISO: %w", err)
	}
	return dst, nil
}
