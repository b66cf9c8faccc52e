package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/berthvm/berth/runtime/layer"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Built images (docker build) enter the store here: their layers come as
// uncompressed tar streams, their config is made by the builder, and each
// build step's result is an image of its own, hidden from listings, that
// the build cache names by the step's key.

// Layer is a layer added with AddLayer.
type Layer struct {
	DiffID string
	// Size is the blob's size (the uncompressed tar); Unpacked the sum
	// of its regular files.
	Size     int64
	Unpacked int64
}

// AddLayer stores the uncompressed layer tar read from r (blob and
// unpacked folder). The layer is kept from collection until release is
// called; record it in an image with PutBuilt before that.
func (s *Store) AddLayer(ctx context.Context, r io.Reader) (l Layer, release func(), err error) {
	stage, err := s.staging("build-layer-")
	if err != nil {
		return l, nil, err
	}
	defer os.RemoveAll(stage)
	dir := filepath.Join(stage, "diff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return l, nil, err
	}
	blob, err := os.OpenFile(filepath.Join(stage, "blob"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return l, nil, err
	}
	defer blob.Close()
	cw := &countWriter{w: blob}
	res, err := layer.Unpack(ctx, dir, io.TeeReader(r, cw), s.limits)
	if err != nil {
		return l, nil, fmt.Errorf("store built layer: %w", err)
	}
	if err := blob.Close(); err != nil {
		return l, nil, fmt.Errorf("store built layer: %w", err)
	}
	l = Layer{DiffID: res.DiffID, Size: cw.n, Unpacked: res.Size}
	s.pin(l.DiffID)
	release = func() { s.unpin(l.DiffID) }
	if err := publish(filepath.Join(stage, "blob"), s.blobPath(l.DiffID)); err != nil {
		release()
		return l, nil, fmt.Errorf("store built layer blob: %w", err)
	}
	if err := publish(dir, s.layerPath(l.DiffID)); err != nil {
		release()
		return l, nil, fmt.Errorf("store built layer: %w", err)
	}
	return l, release, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// PutBuilt records an image made by a build: config is its config JSON
// (its digest is the image ID), whose rootfs lists layers that the store
// holds. hidden marks a build step's result that only the build cache
// keeps (not listed while it has no name); a visible image stays visible.
// names are tagged (canonical names, as ParseName/canonical give).
func (s *Store) PutBuilt(config []byte, hidden bool, names []string) (string, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(config, &cfg); err != nil {
		return "", fmt.Errorf("record built image: parse config: %w", err)
	}
	id := sha256Hex(config)
	s.pin(id)
	defer s.unpin(id)
	mf := ocispec.Manifest{
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: digest.Digest(id), Size: int64(len(config))},
		Layers:    []ocispec.Descriptor{},
	}
	mf.SchemaVersion = 2
	rec := &record{ID: id, MediaType: ocispec.MediaTypeImageManifest, Added: time.Now().UTC(), Hidden: hidden}
	if cfg.Created != nil {
		rec.Created = *cfg.Created
	}
	known := s.layerEntries()
	for _, d := range cfg.RootFS.DiffIDs {
		le, ok := known[d.String()]
		if !ok {
			fi, err := os.Stat(s.blobPath(d.String()))
			if err != nil {
				return "", fmt.Errorf("record built image: layer %s has no blob: %w", d, err)
			}
			le = layerEntry{Digest: d.String(), DiffID: d.String(), MediaType: ocispec.MediaTypeImageLayer, Size: fi.Size(), Unpacked: s.unpackedSize(d.String())}
		}
		mf.Layers = append(mf.Layers, ocispec.Descriptor{MediaType: le.MediaType, Digest: digest.Digest(le.Digest), Size: le.Size})
		rec.Layers = append(rec.Layers, le)
		rec.Size += le.Unpacked
	}
	mb, err := json.Marshal(mf)
	if err != nil {
		return "", err
	}
	rec.Manifest = sha256Hex(mb)
	s.pin(rec.Manifest)
	defer s.unpin(rec.Manifest)
	if err := s.putBlob(mb, rec.Manifest); err != nil {
		return "", err
	}
	if err := s.putBlob(config, id); err != nil {
		return "", err
	}
	if err := syncFS(s.root); err != nil {
		return "", fmt.Errorf("flush image store: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range rec.Layers {
		if _, err := os.Stat(s.layerPath(l.DiffID)); err != nil {
			return "", fmt.Errorf("layer %s vanished before the image was recorded: %w", l.DiffID, err)
		}
	}
	if old, ok := s.idx.Images[id]; ok {
		rec.Users, rec.RepoDigests, rec.Added = old.Users, old.RepoDigests, old.Added
		rec.Hidden = old.Hidden && hidden
	}
	for _, n := range names {
		s.idx.Tags[n] = id
	}
	s.idx.Images[id] = rec
	if err := s.saveLocked(); err != nil {
		return "", err
	}
	return id, nil
}

// layerEntries are the layers the index knows, by diff ID.
func (s *Store) layerEntries() map[string]layerEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]layerEntry{}
	for _, im := range s.idx.Images {
		for _, l := range im.Layers {
			out[l.DiffID] = l
		}
	}
	return out
}

// CanonicalName is the store's name for a tag given by a user
// ("app" -> docker.io/library/app:latest).
func CanonicalName(n string) (string, error) {
	ref, err := ParseName(n)
	if err != nil {
		return "", err
	}
	return canonical(ref), nil
}

// CacheGet returns the image the build cache keeps for key, if any.
func (s *Store) CacheGet(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.idx.BuildCache[key]
	if !ok {
		return "", false
	}
	if _, ok := s.idx.Images[id]; !ok {
		return "", false
	}
	return id, true
}

// CachePut records id (an image in the store) as the result of the build
// step whose key is key.
func (s *Store) CachePut(key, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.idx.Images[id]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if s.idx.BuildCache == nil {
		s.idx.BuildCache = map[string]string{}
	}
	s.idx.BuildCache[key] = id
	return s.saveLocked()
}

// CacheItem is a build step image the build cache keeps.
type CacheItem struct {
	ID string
	// Size is what its last layer holds when no listed image uses that
	// layer (Shared otherwise, and Size 0).
	Size    int64
	Shared  bool
	Created time.Time
}

// CacheUsage lists the build cache: the hidden build step images.
func (s *Store) CacheUsage() []CacheItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cacheItemsLocked()
}

func (s *Store) cacheItemsLocked() []CacheItem {
	visible := map[string]bool{}
	for _, im := range s.idx.Images {
		if !s.hiddenLocked(im) {
			for _, l := range im.Layers {
				visible[l.DiffID] = true
			}
		}
	}
	counted := map[string]bool{}
	out := []CacheItem{}
	for _, im := range s.idx.Images {
		if !s.hiddenLocked(im) {
			continue
		}
		it := CacheItem{ID: im.ID, Created: im.Added, Shared: true}
		if n := len(im.Layers); n > 0 {
			top := im.Layers[n-1]
			if !visible[top.DiffID] && !counted[top.DiffID] {
				counted[top.DiffID] = true
				it.Size, it.Shared = top.Unpacked, false
			}
		}
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// hiddenLocked reports whether im is a build step image without a name.
func (s *Store) hiddenLocked(im *record) bool {
	if !im.Hidden {
		return false
	}
	for _, id := range s.idx.Tags {
		if id == im.ID {
			return false
		}
	}
	return true
}

// PruneCache forgets the build cache: hidden build step images that no
// container uses are removed with the layers nothing else keeps. It
// returns the removed images and the bytes their removed layers held.
func (s *Store) PruneCache() ([]CacheItem, int64, error) {
	s.mu.Lock()
	sizes := map[string]int64{}
	var out []CacheItem
	for id, im := range s.idx.Images {
		if s.hiddenLocked(im) && len(im.Users) == 0 {
			for _, l := range im.Layers {
				sizes[l.DiffID] = l.Unpacked
			}
			out = append(out, CacheItem{ID: id, Created: im.Added})
			delete(s.idx.Images, id)
		}
	}
	for k, id := range s.idx.BuildCache {
		if _, ok := s.idx.Images[id]; !ok {
			delete(s.idx.BuildCache, k)
		}
	}
	if err := s.saveLocked(); err != nil {
		s.mu.Unlock()
		return nil, 0, err
	}
	removed, err := s.collect() // releases s.mu
	var freed int64
	for _, d := range removed {
		freed += sizes[d]
	}
	if err != nil {
		return out, freed, fmt.Errorf("prune build cache: %w", err)
	}
	return out, freed, nil
}

// CacheKey hashes the parts of a build step's key into one.
func CacheKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// ConfigBlob returns the config JSON of the image with this ID.
func (s *Store) ConfigBlob(id string) ([]byte, error) {
	b, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return nil, fmt.Errorf("read image config %s: %w", id, err)
	}
	return b, nil
}

// Hold keeps the layers and blobs of image id from collection (a build
// builds on them) until release is called, even if the image is removed
// meanwhile.
func (s *Store) Hold(id string) (release func()) {
	s.mu.Lock()
	var ds []string
	if im, ok := s.idx.Images[id]; ok {
		ds = append(ds, im.ID, im.Manifest)
		for _, l := range im.Layers {
			ds = append(ds, l.Digest, l.DiffID)
		}
	}
	s.mu.Unlock()
	s.pin(ds...)
	return func() { s.unpin(ds...) }
}

// Publish names the built image id (a build's result): it is no longer
// hidden, and each of names (canonical) points to it.
func (s *Store) Publish(id string, names []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.idx.Images[id]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	im.Hidden = false
	for _, n := range names {
		s.idx.Tags[n] = id
	}
	return s.saveLocked()
}
