package image

import (
	"archive/tar"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Save writes the images refs name as one tarball that `docker load`
// reads (manifest.json) and that is also an OCI image layout (index.json,
// oci-layout, blobs/sha256/...), like docker save since Docker 25.
func (s *Store) Save(ctx context.Context, w io.Writer, refs []string) error {
	if len(refs) == 0 {
		return fmt.Errorf("%w: save needs at least one image", ErrInvalid)
	}
	type saved struct {
		rec   record
		names []string // canonical
	}
	var imgs []*saved
	byID := map[string]*saved{}
	s.mu.Lock()
	for _, ref := range refs {
		im, err := s.findLocked(ref)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		sv, ok := byID[im.ID]
		if !ok {
			sv = &saved{rec: *im}
			sv.rec.Layers = append([]layerEntry(nil), im.Layers...)
			byID[im.ID] = sv
			imgs = append(imgs, sv)
		}
		if r, err := ParseName(ref); err == nil && !strings.HasPrefix(im.ID, "sha256:"+strings.TrimPrefix(ref, "sha256:")) {
			if id, ok := s.idx.Tags[canonical(r)]; ok && id == im.ID {
				sv.names = appendUnique(sv.names, canonical(r))
			}
		}
	}
	// Pin what is written so a concurrent rmi cannot pull it away.
	var pins []string
	for _, sv := range imgs {
		pins = append(pins, sv.rec.ID, sv.rec.Manifest)
		for _, l := range sv.rec.Layers {
			pins = append(pins, l.Digest)
		}
	}
	for _, d := range pins {
		s.pins[d]++
	}
	s.mu.Unlock()
	defer s.unpin(pins...)

	tw := tar.NewWriter(w)
	written := map[string]bool{}
	blob := func(d string) error {
		if written[d] {
			return nil
		}
		written[d] = true
		return s.writeBlob(ctx, tw, d)
	}
	type dockerEntry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []dockerEntry
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	idx.SchemaVersion = 2
	for _, sv := range imgs {
		e := dockerEntry{Config: blobName(sv.rec.ID), RepoTags: []string{}}
		if err := blob(sv.rec.ID); err != nil {
			return err
		}
		for _, l := range sv.rec.Layers {
			if err := blob(l.Digest); err != nil {
				return err
			}
			e.Layers = append(e.Layers, blobName(l.Digest))
		}
		if err := blob(sv.rec.Manifest); err != nil {
			return err
		}
		fi, err := os.Stat(s.blobPath(sv.rec.Manifest))
		if err != nil {
			return fmt.Errorf("save %s: %w", ShortID(sv.rec.ID), err)
		}
		desc := ocispec.Descriptor{MediaType: sv.rec.MediaType, Digest: digest.Digest(sv.rec.Manifest), Size: fi.Size()}
		if len(sv.names) == 0 {
			idx.Manifests = append(idx.Manifests, desc)
		}
		for _, n := range sv.names {
			e.RepoTags = append(e.RepoTags, Familiar(n))
			d := desc
			d.Annotations = map[string]string{"io.containerd.image.name": n}
			if r, err := ParseName(n); err == nil {
				d.Annotations[ocispec.AnnotationRefName] = r.Identifier()
			}
			idx.Manifests = append(idx.Manifests, d)
		}
		manifest = append(manifest, e)
	}
	files := []struct {
		name string
		v    any
	}{
		{"oci-layout", ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion}},
		{"index.json", idx},
		{"manifest.json", manifest},
	}
	for _, f := range files {
		b, err := json.Marshal(f.v)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(fileHeader(f.name, int64(len(b)))); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
		if _, err := tw.Write(b); err != nil {
			return fmt.Errorf("write %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("write tarball: %w", err)
	}
	return nil
}

func blobName(d string) string { return "blobs/" + strings.Replace(d, ":", "/", 1) }

func fileHeader(name string, size int64) *tar.Header {
	return &tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: size, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
}

func (s *Store) writeBlob(ctx context.Context, tw *tar.Writer, d string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(s.blobPath(d))
	if err != nil {
		return fmt.Errorf("save blob %s: %w", d, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(fileHeader(blobName(d), fi.Size())); err != nil {
		return fmt.Errorf("save blob %s: %w", d, err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return fmt.Errorf("save blob %s: %w", d, err)
	}
	return nil
}
