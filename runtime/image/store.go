// Package image is the agent's image store: content-addressed blobs,
// unpacked layers shared between images as overlayfs lower dirs, and an
// index of names, filled by pulls and loads and emptied by removals.
package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/berthvm/berth/runtime/layer"
)

// Store is an image store under one root folder. Its methods are safe for
// concurrent use; one process at a time may open a root.
//
// Layout under the root:
//
//	blobs/sha256/<hex>   manifests, configs and layer blobs as fetched
//	layers/<hex>         an unpacked layer, by the hex of its diff ID
//	index.json           images and names (written by temp file + rename)
//	tmp/                 staging for work in progress, emptied at Open
//	lock                 held while a process has the store open
type Store struct {
	root   string
	limits layer.Limits
	unlock func()

	mu   sync.Mutex
	idx  *index
	pins map[string]int // digests that work in progress relies on
	// ephemeral are the holders among the images' Users that the index
	// file leaves out (see UseEphemeral).
	ephemeral map[string]bool
}

// Options tune a store.
type Options struct {
	// Limits bound each unpacked layer (layer.DefaultLimits when zero).
	Limits layer.Limits
}

// Sentinel errors callers branch on (the API maps them to status codes).
var (
	ErrNotFound = errors.New("no such image")
	ErrConflict = errors.New("conflict")
	ErrInvalid  = errors.New("invalid reference")
)

// Open opens (creating it if needed) the store at root, removes staging
// left by a killed process and anything the index does not reference.
func Open(root string, opts Options) (*Store, error) {
	for _, d := range []string{"blobs/sha256", "layers", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("open image store: %w", err)
		}
	}
	unlock, err := lockRoot(filepath.Join(root, "lock"))
	if err != nil {
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	s := &Store{root: root, limits: opts.Limits, unlock: unlock, pins: map[string]int{}}
	if s.limits == (layer.Limits{}) {
		s.limits = layer.DefaultLimits
	}
	if s.idx, err = loadIndex(s.indexPath()); err != nil {
		unlock()
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	if err := s.cleanStaging(); err != nil {
		unlock()
		return nil, err
	}
	s.mu.Lock()
	_, err = s.collect() // unlocks
	if err != nil {
		unlock()
		return nil, fmt.Errorf("open image store %s: %w", root, err)
	}
	return s, nil
}

// Close releases the store's root for another process.
func (s *Store) Close() error {
	s.unlock()
	return nil
}

// Root returns the store's root folder.
func (s *Store) Root() string { return s.root }

func (s *Store) indexPath() string { return filepath.Join(s.root, "index.json") }

func (s *Store) blobPath(digest string) string {
	return filepath.Join(s.root, "blobs", "sha256", strings.TrimPrefix(digest, "sha256:"))
}

func (s *Store) layerPath(diffID string) string {
	return filepath.Join(s.root, "layers", strings.TrimPrefix(diffID, "sha256:"))
}

// staging makes a fresh folder under tmp/ for work that a rename will
// publish.
func (s *Store) staging(prefix string) (string, error) {
	d, err := os.MkdirTemp(filepath.Join(s.root, "tmp"), prefix)
	if err != nil {
		return "", fmt.Errorf("make staging folder: %w", err)
	}
	return d, nil
}

func (s *Store) cleanStaging() error {
	tmp := filepath.Join(s.root, "tmp")
	des, err := os.ReadDir(tmp)
	if err != nil {
		return fmt.Errorf("clean image store staging: %w", err)
	}
	for _, de := range des {
		if err := os.RemoveAll(filepath.Join(tmp, de.Name())); err != nil {
			return fmt.Errorf("clean image store staging: %w", err)
		}
	}
	return nil
}

func (s *Store) pin(digests ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		s.pins[d]++
	}
}

func (s *Store) unpin(digests ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range digests {
		if s.pins[d]--; s.pins[d] <= 0 {
			delete(s.pins, d)
		}
	}
}

// removeAll deletes what a removal moved to the trash (a variable for the
// tests).
var removeAll = os.RemoveAll

// collect removes blobs and layers that no image references and no work
// in progress relies on, and returns the diff IDs of removed layers. It
// must be called with s.mu held, and releases it: under the lock, what
// goes only moves to a trash folder under tmp/ (emptied at Open, should
// the agent be killed); it is deleted after, so deleting large layers does
// not hold up pulls, runs and lists.
func (s *Store) collect() ([]string, error) {
	trash, err := s.staging("trash-")
	if err != nil {
		// No room even for a folder (a full disk): delete in place.
		removed, err := s.collectLocked("")
		s.mu.Unlock()
		return removed, err
	}
	removed, err := s.collectLocked(trash)
	s.mu.Unlock()
	if rerr := removeAll(trash); rerr != nil && err == nil {
		err = fmt.Errorf("delete removed layers: %w", rerr)
	}
	return removed, err
}

// collectLocked moves what collect removes into trash (deletes it when
// trash is "").
func (s *Store) collectLocked(trash string) ([]string, error) {
	used := map[string]bool{}
	for _, im := range s.idx.Images {
		used[im.Manifest] = true
		used[im.ID] = true
		for _, l := range im.Layers {
			used[l.Digest] = true
			used[l.DiffID] = true
		}
	}
	var removed []string
	sweep := func(dir string, onRemove func(digest string)) error {
		into := filepath.Join(trash, filepath.Base(dir))
		if trash != "" {
			if err := os.Mkdir(into, 0o700); err != nil {
				return err
			}
		}
		des, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		for _, de := range des {
			d := "sha256:" + de.Name()
			if used[d] || s.pins[d] > 0 {
				continue
			}
			var err error
			if trash == "" {
				err = os.RemoveAll(filepath.Join(dir, de.Name()))
			} else {
				err = os.Rename(filepath.Join(dir, de.Name()), filepath.Join(into, de.Name()))
			}
			if err != nil {
				return err
			}
			if onRemove != nil {
				onRemove(d)
			}
		}
		return nil
	}
	if err := sweep(filepath.Join(s.root, "layers"), func(d string) { removed = append(removed, d) }); err != nil {
		return removed, fmt.Errorf("remove unused layers: %w", err)
	}
	if err := sweep(filepath.Join(s.root, "blobs", "sha256"), nil); err != nil {
		return removed, fmt.Errorf("remove unused blobs: %w", err)
	}
	return removed, nil
}

// collectIfDiskFull removes what a pull or load that failed on a full
// disk left (layers no image uses): keeping them for a retry would keep
// the disk full.
func (s *Store) collectIfDiskFull(err error) {
	if err == nil || !(errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "no space left on device")) {
		return
	}
	s.mu.Lock()
	s.collect() // unlocks
}
