package image

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// ErrCorrupt is wrapped by Verify's errors: the store's content does not
// match its index.
var ErrCorrupt = errors.New("image store is inconsistent")

// Verify checks that the store is whole: every tag names a listed image;
// every image's manifest, config and layer blobs exist and hash to their
// digests; every layer is unpacked. It names every problem at once. It is
// what the reliability tests run after each fault.
func (s *Store) Verify() error {
	s.mu.Lock()
	var recs []record
	for _, im := range s.idx.Images {
		recs = append(recs, *im)
	}
	var errs []error
	for name, id := range s.idx.Tags {
		if _, ok := s.idx.Images[id]; !ok {
			errs = append(errs, fmt.Errorf("%w: tag %s names image %s, which is not listed", ErrCorrupt, name, id))
		}
	}
	s.mu.Unlock()
	// Hashing runs outside the lock; the pins keep the blobs in place.
	for _, im := range recs {
		digests := []string{im.Manifest, im.ID}
		for _, l := range im.Layers {
			digests = append(digests, l.Digest)
		}
		s.pin(digests...)
		for _, d := range digests {
			if err := verifyBlob(s.blobPath(d), d); err != nil {
				errs = append(errs, fmt.Errorf("%w: image %s: %w", ErrCorrupt, ShortID(im.ID), err))
			}
		}
		for _, l := range im.Layers {
			if fi, err := os.Stat(s.layerPath(l.DiffID)); err != nil || !fi.IsDir() {
				errs = append(errs, fmt.Errorf("%w: image %s: layer %s is not unpacked", ErrCorrupt, ShortID(im.ID), l.DiffID))
			}
		}
		s.unpin(digests...)
	}
	return errors.Join(errs...)
}

// verifyBlob checks that the file at p hashes to digest.
func verifyBlob(p, digest string) error {
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("blob %s: %w", digest, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("blob %s: %w", digest, err)
	}
	if got := "sha256:" + hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("blob %s holds content of digest %s", digest, strings.TrimPrefix(got, "sha256:"))
	}
	return nil
}
