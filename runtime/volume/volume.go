// Package volume keeps the agent's named volumes: one folder per volume,
// its data in _data and its metadata in volume.json, as Docker's local
// volume driver lays them out.
package volume

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

// ErrNotFound is returned for a volume that does not exist.
var ErrNotFound = errors.New("no such volume")

// ErrInvalidName is returned for a name Docker would refuse.
var ErrInvalidName = errors.New("invalid volume name")

// AnonymousLabel marks a volume made for a container's `-v /path` (Docker's
// label): `rm -v` and --rm remove it with its container, prune removes it
// without --all.
const AnonymousLabel = "com.docker.volume.anonymous"

var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidName reports whether name is a valid volume name (Docker's rule for
// the local driver).
func ValidName(name string) bool { return validName.MatchString(name) }

// Volume is one volume.
type Volume struct {
	Name      string            `json:"Name"`
	CreatedAt time.Time         `json:"CreatedAt"`
	Labels    map[string]string `json:"Labels,omitempty"`
	// Mountpoint is the folder holding the data, on the machine.
	Mountpoint string `json:"-"`
}

// Anonymous reports whether the volume was made for one container's
// `-v /path`.
func (v Volume) Anonymous() bool {
	_, ok := v.Labels[AnonymousLabel]
	return ok
}

// Store holds the volumes under one folder. Its methods are safe for
// concurrent use.
type Store struct {
	dir      string
	mu       sync.Mutex
	onChange func(action, name string)
}

// Option configures a Store.
type Option func(*Store)

// OnChange has fn called after each volume is made ("create") or removed
// ("destroy"), Docker's names for these events.
func OnChange(fn func(action, name string)) Option {
	return func(s *Store) { s.onChange = fn }
}

func (s *Store) changed(action, name string) {
	if s.onChange != nil {
		s.onChange(action, name)
	}
}

const (
	dataDir  = "_data"
	metaFile = "volume.json"
)

// Open opens (and creates) the volume folder dir.
func Open(dir string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create volume folder: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, trashDir), 0o700); err != nil {
		return nil, fmt.Errorf("create volume trash folder: %w", err)
	}
	s := &Store{dir: dir}
	for _, o := range opts {
		o(s)
	}
	// What a killed agent was deleting; it is no volume (its name starts
	// with a dot), so this can take its time.
	go s.emptyTrash()
	return s, nil
}

// trashDir holds removed volumes while their data is deleted, outside the
// store's lock. Its name is no valid volume name.
const trashDir = ".trash"

// removeAll deletes a removed volume's data (a variable for the tests).
var removeAll = os.RemoveAll

func (s *Store) emptyTrash() {
	des, _ := os.ReadDir(filepath.Join(s.dir, trashDir))
	for _, de := range des {
		removeAll(filepath.Join(s.dir, trashDir, de.Name()))
	}
	// Left by agents that deleted under the lock.
	old, _ := filepath.Glob(filepath.Join(s.dir, ".*.removing"))
	for _, d := range old {
		removeAll(d)
	}
}

// Path is the data folder of volume name, whether or not it exists.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name, dataDir) }

// Create makes volume name with labels. Like Docker, creating a volume that
// exists returns it unchanged.
func (s *Store) Create(name string, labels map[string]string) (Volume, error) {
	if !ValidName(name) {
		return Volume{}, fmt.Errorf("%w: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path", ErrInvalidName, name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, err := s.get(name); err == nil {
		return v, nil
	}
	if err := os.MkdirAll(s.Path(name), 0o755); err != nil {
		return Volume{}, fmt.Errorf("create volume %s: %w", name, err)
	}
	v := Volume{Name: name, CreatedAt: time.Now().UTC().Truncate(time.Second), Labels: labels, Mountpoint: s.Path(name)}
	b, err := json.Marshal(v)
	if err == nil {
		err = writeFile(filepath.Join(s.dir, name, metaFile), b)
	}
	if err != nil {
		os.RemoveAll(filepath.Join(s.dir, name))
		return Volume{}, fmt.Errorf("create volume %s: %w", name, err)
	}
	s.changed("create", name)
	return v, nil
}

// Get returns volume name, or ErrNotFound.
func (s *Store) Get(name string) (Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.get(name)
}

func (s *Store) get(name string) (Volume, error) {
	if !ValidName(name) {
		return Volume{}, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	fi, err := os.Stat(s.Path(name))
	if err != nil {
		return Volume{}, fmt.Errorf("get %s: %w", name, ErrNotFound)
	}
	v := Volume{Name: name, CreatedAt: fi.ModTime().UTC().Truncate(time.Second)}
	// A volume made before volumes had metadata has only its folder.
	if b, err := os.ReadFile(filepath.Join(s.dir, name, metaFile)); err == nil {
		if err := json.Unmarshal(b, &v); err != nil {
			return Volume{}, fmt.Errorf("read volume %s: %w", name, err)
		}
	}
	v.Name, v.Mountpoint = name, s.Path(name)
	return v, nil
}

// List returns every volume, by name.
func (s *Store) List() ([]Volume, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("list volumes: %w", err)
	}
	var out []Volume
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		v, err := s.get(e.Name())
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Remove deletes volume name and its data. The caller checks that no
// container uses it.
//
// Under the lock the volume only moves into the trash (so a half-removed
// volume never looks like one); its data is deleted after, so deleting a
// large volume does not hold up other volumes' create, list or remove.
func (s *Store) Remove(name string) error {
	s.mu.Lock()
	if _, err := s.get(name); err != nil {
		s.mu.Unlock()
		return err
	}
	trash, err := os.MkdirTemp(filepath.Join(s.dir, trashDir), name+"-")
	if err == nil {
		err = os.Rename(filepath.Join(s.dir, name), filepath.Join(trash, name))
		if err != nil {
			os.Remove(trash)
		}
	}
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("remove volume %s: %w", name, err)
	}
	s.changed("destroy", name)
	s.mu.Unlock()
	if err := removeAll(trash); err != nil {
		return fmt.Errorf("remove volume %s: delete its data: %w", name, err)
	}
	return nil
}

// writeFile replaces path atomically (temp file + rename), mode 0600.
func writeFile(path string, b []byte) error { return atomicfile.Write(path, b) }
