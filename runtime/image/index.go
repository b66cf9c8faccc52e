package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

const indexVersion = 1

// index is what index.json holds.
type index struct {
	Version int `json:"version"`
	// Images by ID (the config digest).
	Images map[string]*record `json:"images"`
	// Tags maps canonical names (docker.io/library/busybox:latest) to IDs.
	Tags map[string]string `json:"tags"`
	// BuildCache maps build step keys to the images of their results.
	BuildCache map[string]string `json:"buildCache,omitempty"`
}

// record is one image in the index.
type record struct {
	ID          string       `json:"id"`
	Manifest    string       `json:"manifest"`
	MediaType   string       `json:"mediaType"`
	RepoDigests []string     `json:"repoDigests,omitempty"`
	Layers      []layerEntry `json:"layers"`
	Created     time.Time    `json:"created"`
	Added       time.Time    `json:"added"`
	Size        int64        `json:"size"`
	// Users are the holders (container IDs) that keep the image in use.
	Users []string `json:"users,omitempty"`
	// Hidden marks a build step's result kept by the build cache: not
	// listed while it has no name.
	Hidden bool `json:"hidden,omitempty"`
}

// layerEntry is one layer of an image.
type layerEntry struct {
	Digest    string `json:"digest"` // of the stored blob
	DiffID    string `json:"diffID"`
	MediaType string `json:"mediaType"`
	Size      int64  `json:"size"`     // of the blob
	Unpacked  int64  `json:"unpacked"` // bytes of regular files
}

func loadIndex(path string) (*index, error) {
	idx := &index{Version: indexVersion, Images: map[string]*record{}, Tags: map[string]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return idx, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	if err := json.Unmarshal(b, idx); err != nil {
		return nil, fmt.Errorf("parse image index %s: %w", path, err)
	}
	if idx.Version != indexVersion {
		return nil, fmt.Errorf("image index %s has version %d, this agent reads %d", path, idx.Version, indexVersion)
	}
	if idx.Images == nil {
		idx.Images = map[string]*record{}
	}
	if idx.Tags == nil {
		idx.Tags = map[string]string{}
	}
	return idx, nil
}

// saveLocked writes the index to a temp file, syncs it and renames it over
// index.json, so a crash leaves the old or the new index, never half.
func (s *Store) saveLocked() error { return s.writeIndexLocked(atomicfile.Sync()) }

// saveUnsyncedLocked is saveLocked without the fsyncs (two of them, tens
// of milliseconds each on a machine's disk), for a change whose loss in a
// crash is harmless: the rename still leaves the old or the new index,
// and the next synced save makes it durable.
func (s *Store) saveUnsyncedLocked() error { return s.writeIndexLocked() }

func (s *Store) writeIndexLocked(opts ...atomicfile.Option) error {
	b, err := json.MarshalIndent(s.lastingLocked(), "", "  ")
	if err != nil {
		return fmt.Errorf("encode image index: %w", err)
	}
	if err := atomicfile.Write(s.indexPath(), b, opts...); err != nil {
		return fmt.Errorf("write image index: %w", err)
	}
	return nil
}

// lastingLocked is the index without its ephemeral holders: what the
// index file holds.
func (s *Store) lastingLocked() *index {
	if len(s.ephemeral) == 0 {
		return s.idx
	}
	out := *s.idx
	out.Images = make(map[string]*record, len(s.idx.Images))
	for id, im := range s.idx.Images {
		if slices.ContainsFunc(im.Users, func(u string) bool { return s.ephemeral[u] }) {
			c := *im
			c.Users = slices.DeleteFunc(slices.Clone(im.Users), func(u string) bool { return s.ephemeral[u] })
			im = &c
		}
		out.Images[id] = im
	}
	return &out
}
