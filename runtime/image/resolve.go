package image

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is what a container needs from an image.
type Image struct {
	// ID is the config digest ("sha256:...").
	ID string
	// Config is the image's configuration (Env, Cmd, Entrypoint, ...).
	Config ocispec.Image
	// LayerDirs are the unpacked layers, bottom layer first (the order of
	// Config.RootFS.DiffIDs). Read-only: use them as overlayfs lower dirs.
	LayerDirs []string
}

// LowerDir is the lowerdir= value for overlayfs: top layer first.
func (im Image) LowerDir() string {
	dirs := slices.Clone(im.LayerDirs)
	slices.Reverse(dirs)
	return strings.Join(dirs, ":")
}

// Summary describes an image for listings (docker images).
type Summary struct {
	ID          string
	RepoTags    []string // familiar names (busybox:latest)
	RepoDigests []string // familiar name@digest
	Created     time.Time
	Size        int64 // unpacked bytes
	Users       []string
}

// Details describes an image for inspection (docker image inspect).
type Details struct {
	Summary
	Config        ocispec.Image
	Manifest      string
	MediaType     string
	DiffIDs       []string
	LayerDigests  []string
	CompressedSum int64
}

// findLocked resolves a reference like docker: a full or short image ID,
// a name (busybox, busybox:1, host:5000/x/y:t) or name@digest.
func (s *Store) findLocked(ref string) (*record, error) {
	h := strings.TrimPrefix(ref, "sha256:")
	if isHex(h) && len(h) >= 4 {
		if im, ok := s.idx.Images["sha256:"+h]; ok {
			return im, nil
		}
		var found *record
		for id, im := range s.idx.Images {
			if strings.HasPrefix(id, "sha256:"+h) {
				if found != nil {
					return nil, fmt.Errorf("%w: image ID prefix %q matches several images", ErrInvalid, ref)
				}
				found = im
			}
		}
		if found != nil {
			return found, nil
		}
	}
	r, err := ParseName(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	full := canonical(r)
	if d, ok := r.(name.Digest); ok {
		for _, im := range s.idx.Images {
			if slices.Contains(im.RepoDigests, full) || im.Manifest == d.DigestStr() && slices.ContainsFunc(im.RepoDigests, func(x string) bool { return strings.HasPrefix(x, repoOf(r)+"@") }) {
				return im, nil
			}
		}
		return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
	}
	if id, ok := s.idx.Tags[full]; ok {
		if im, ok := s.idx.Images[id]; ok {
			return im, nil
		}
	}
	return nil, fmt.Errorf("%w: %s", ErrNotFound, ref)
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *Store) config(id string) (ocispec.Image, error) {
	var cfg ocispec.Image
	b, err := os.ReadFile(s.blobPath(id))
	if err != nil {
		return cfg, fmt.Errorf("read image config %s: %w", id, err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("parse image config %s: %w", id, err)
	}
	return cfg, nil
}

// Resolve finds an image by ID or name and returns its config and layer
// folders. Combine with Use so that the image cannot be removed meanwhile.
func (s *Store) Resolve(ref string) (Image, error) {
	s.mu.Lock()
	im, err := s.findLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return Image{}, err
	}
	id := im.ID
	var dirs []string
	for _, l := range im.Layers {
		dirs = append(dirs, s.layerPath(l.DiffID))
	}
	s.mu.Unlock()
	cfg, err := s.config(id)
	if err != nil {
		return Image{}, err
	}
	return Image{ID: id, Config: cfg, LayerDirs: dirs}, nil
}

// Use resolves ref and records holder (a container ID) as a user of the
// image, so that Remove refuses it unless forced. It is idempotent.
func (s *Store) Use(ref, holder string) (Image, error) { return s.use(ref, holder, false) }

// UseEphemeral is Use for a holder that a crash or a restart of the agent
// ends anyway (an AutoRemove container, which the agent removes at its
// next start when it does not run): the hold is kept in memory only, so
// that neither it nor its Release writes the index. The agent takes the
// holds of the AutoRemove containers that still run again at its start.
func (s *Store) UseEphemeral(ref, holder string) (Image, error) {
	return s.use(ref, holder, true)
}

func (s *Store) use(ref, holder string, ephemeral bool) (Image, error) {
	s.mu.Lock()
	im, err := s.findLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return Image{}, err
	}
	if !slices.Contains(im.Users, holder) {
		im.Users = append(im.Users, holder)
		if ephemeral {
			if s.ephemeral == nil {
				s.ephemeral = map[string]bool{}
			}
			s.ephemeral[holder] = true
		} else if err := s.saveLocked(); err != nil {
			im.Users = im.Users[:len(im.Users)-1]
			s.mu.Unlock()
			return Image{}, err
		}
	}
	id := im.ID
	s.mu.Unlock()
	return s.Resolve(id)
}

// Release drops holder as a user of the image with this ID. Releasing an
// image that is gone or not held is not an error. The index is saved
// without an fsync (it is on the path of every docker run --rm): a crash
// can only lose the release, which leaves a holder that keeps the image,
// the side Use's synced save errs on too; container folders are not
// synced either, so a holder can outlive its container after a crash
// already. An ephemeral holder's release writes nothing.
func (s *Store) Release(id, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.idx.Images[id]
	if !ok {
		return nil
	}
	i := slices.Index(im.Users, holder)
	if i < 0 {
		return nil
	}
	im.Users = slices.Delete(im.Users, i, i+1)
	if s.ephemeral[holder] {
		delete(s.ephemeral, holder)
		return nil
	}
	return s.saveUnsyncedLocked()
}

func (s *Store) summaryLocked(im *record) Summary {
	sum := Summary{ID: im.ID, Created: im.Created, Size: im.Size, Users: slices.Clone(im.Users)}
	for n, id := range s.idx.Tags {
		if id == im.ID {
			sum.RepoTags = append(sum.RepoTags, Familiar(n))
		}
	}
	sort.Strings(sum.RepoTags)
	for _, d := range im.RepoDigests {
		sum.RepoDigests = append(sum.RepoDigests, Familiar(d))
	}
	sort.Strings(sum.RepoDigests)
	return sum
}

// List returns every image, newest first, without the build cache's
// unnamed step images.
func (s *Store) List() []Summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Summary
	for _, im := range s.idx.Images {
		if s.hiddenLocked(im) {
			continue
		}
		out = append(out, s.summaryLocked(im))
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.After(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Inspect returns everything known about one image.
func (s *Store) Inspect(ref string) (Details, error) {
	s.mu.Lock()
	im, err := s.findLocked(ref)
	if err != nil {
		s.mu.Unlock()
		return Details{}, err
	}
	d := Details{Summary: s.summaryLocked(im), Manifest: im.Manifest, MediaType: im.MediaType}
	for _, l := range im.Layers {
		d.DiffIDs = append(d.DiffIDs, l.DiffID)
		d.LayerDigests = append(d.LayerDigests, l.Digest)
		d.CompressedSum += l.Size
	}
	s.mu.Unlock()
	cfg, err := s.config(d.ID)
	if err != nil {
		return Details{}, err
	}
	d.Config = cfg
	return d, nil
}
