package machine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/berthvm/berth/drivers"
)

// ConfigVersion is the version of config.json this berth writes and reads.
const ConfigVersion = 1

// ErrNotFound marks a machine that is not in the store (exit code 4).
var ErrNotFound = errors.New("machine not found")

// ErrExists marks a create of a name that is already taken.
var ErrExists = errors.New("machine already exists")

// Config is what config.json holds.
type Config struct {
	ConfigVersion int
	Name          string
	DriverName    string
	// Driver is the driver's own settings, as the driver marshals itself.
	Driver json.RawMessage
	Labels map[string]string `json:",omitempty"`
	// InsecureRegistries are the registries (host[:port]) the machine's
	// agent may reach over plain HTTP; provisioning writes them there.
	InsecureRegistries []string `json:",omitempty"`
	// Shares are the host folders shared into the machine; the driver
	// attaches them at create and at every start.
	Shares []drivers.Share `json:",omitempty"`
	// Created is when create began.
	Created time.Time
	// Error says why create did not finish. Empty for a complete machine.
	Error string `json:",omitempty"`
}

// Machine is a stored machine with its driver.
type Machine struct {
	Config
	Dir    string         `json:"-"`
	Driver drivers.Driver `json:"-"`
}

// Store is the folder that holds every machine of a user: ~/.berth unless
// BERTH_HOME or --storage-path says otherwise.
type Store struct {
	Root string
}

// DefaultRoot is $BERTH_HOME, else ~/.berth.
func DefaultRoot() (string, error) {
	if h := os.Getenv("BERTH_HOME"); h != "" {
		return h, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the berth folder: %w (set BERTH_HOME)", err)
	}
	return filepath.Join(home, ".berth"), nil
}

// NewStore returns the store at root. Nothing is made until it is needed.
func NewStore(root string) *Store { return &Store{Root: root} }

// Dir is the folder of the named machine.
func (s *Store) Dir(name string) string { return filepath.Join(s.Root, "machines", name) }

// CacheDir is the folder shared by all machines (ISOs, images).
func (s *Store) CacheDir() string { return filepath.Join(s.Root, "cache") }

// Base is what the machine's driver is made with.
func (s *Store) Base(name string) drivers.Base {
	b := drivers.Base{MachineName: name, Dir: s.Dir(name), CacheDir: s.CacheDir()}
	if pub, err := os.ReadFile(filepath.Join(b.Dir, "id_ed25519.pub")); err == nil {
		b.SSHPublicKey = strings.TrimSpace(string(pub))
	}
	return b
}

// Exists reports whether the named machine has a folder.
func (s *Store) Exists(name string) bool {
	if ValidateName(name) != nil {
		return false
	}
	fi, err := os.Stat(s.Dir(name))
	return err == nil && fi.IsDir()
}

// Names lists the stored machines, sorted. Folders whose names are not
// machine names are ignored.
func (s *Store) Names() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.Root, "machines"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list machines: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && ValidateName(e.Name()) == nil {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Load reads the named machine and makes its driver. A missing machine
// gives an error wrapping ErrNotFound; a broken config.json or an unknown
// driver gives an error saying which.
func (s *Store) Load(name string) (*Machine, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	dir := s.Dir(name)
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, fs.ErrNotExist) {
		if _, derr := os.Stat(dir); derr == nil {
			return nil, fmt.Errorf("machine %q has no %s (a create was interrupted; `berth rm %s` removes it)", name, ConfigFile, name)
		}
		return nil, fmt.Errorf("%w: %q (see `berth ls`)", ErrNotFound, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read machine %q: %w", name, err)
	}
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("read machine %q: broken %s: %w", name, ConfigFile, err)
	}
	if len(c.Driver) > 0 {
		var compact bytes.Buffer
		if err := json.Compact(&compact, c.Driver); err == nil {
			c.Driver = compact.Bytes()
		}
	}
	if c.ConfigVersion != ConfigVersion {
		return nil, fmt.Errorf("read machine %q: %s has ConfigVersion %d, this berth reads %d", name, ConfigFile, c.ConfigVersion, ConfigVersion)
	}
	if c.Name != name {
		return nil, fmt.Errorf("read machine %q: %s names machine %q", name, ConfigFile, c.Name)
	}
	if err := checkStoredShares(c.Shares); err != nil {
		return nil, fmt.Errorf("read machine %q: %s: %w (fix or remove its Shares, or `berth rm %s`)", name, ConfigFile, err, name)
	}
	base := s.Base(name)
	base.Shares = c.Shares
	d, err := drivers.Load(c.DriverName, base, c.Driver)
	if err != nil {
		return nil, fmt.Errorf("read machine %q: %w", name, err)
	}
	return &Machine{Config: c, Dir: dir, Driver: d}, nil
}

// Save writes m's config.json atomically, with the driver's current
// settings. The caller holds the machine's lock.
func (s *Store) Save(m *Machine) error {
	if err := ValidateName(m.Name); err != nil {
		return err
	}
	if m.Driver != nil {
		raw, err := json.Marshal(m.Driver)
		if err != nil {
			return fmt.Errorf("save machine %q: driver settings: %w", m.Name, err)
		}
		m.Config.Driver = raw
		m.DriverName = m.Driver.DriverName()
	}
	m.ConfigVersion = ConfigVersion
	data, err := json.MarshalIndent(m.Config, "", "  ")
	if err != nil {
		return fmt.Errorf("save machine %q: %w", m.Name, err)
	}
	if err := os.MkdirAll(s.Dir(m.Name), 0o700); err != nil {
		return fmt.Errorf("save machine %q: %w", m.Name, err)
	}
	if err := writeFileAtomic(filepath.Join(s.Dir(m.Name), ConfigFile), append(data, '\n')); err != nil {
		return fmt.Errorf("save machine %q: %w", m.Name, err)
	}
	return nil
}
