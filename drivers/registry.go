package drivers

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
)

// FlagKind is the type of a driver's create flag.
type FlagKind int

// The flag kinds.
const (
	FlagString FlagKind = iota
	FlagInt
	FlagBool
	FlagStringSlice
)

// Flag describes one create flag of a driver, such as --qemu-memory. The
// CLI turns it into a command-line flag that is also read from EnvVar.
type Flag struct {
	Name    string // "qemu-memory"
	Usage   string
	EnvVar  string // "QEMU_MEMORY"; every flag has one
	Kind    FlagKind
	Default any // string, int, bool or []string, matching Kind
}

// FlagValues gives a driver the values of its flags at create time.
type FlagValues interface {
	String(name string) string
	Int(name string) int
	Bool(name string) bool
	StringSlice(name string) []string
	// IsSet says whether the user set the flag (on the command line or in
	// its environment variable).
	IsSet(name string) bool
}

// Registration is one driver known to berth.
type Registration struct {
	Name        string
	Description string // one line for `berth create --help`
	Flags       []Flag
	// New makes a driver for the machine in base. Its own settings are
	// filled later by Configure (create) or by json.Unmarshal of the
	// stored config (every other command).
	New func(base Base) Driver
	// Configure reads the create flags into a driver made by New. It MUST
	// validate them and name every bad flag at once.
	Configure func(d Driver, v FlagValues) error
}

var (
	mu       sync.RWMutex
	registry = map[string]Registration{}
)

// Register adds a driver. It panics on a duplicate name: that is a
// programming error found by any test.
func Register(r Registration) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[r.Name]; dup {
		panic("drivers: duplicate registration of " + r.Name)
	}
	registry[r.Name] = r
}

// ErrUnknownDriver marks a driver name that this build of berth lacks.
var ErrUnknownDriver = errors.New("unknown driver")

// Lookup returns the registration of the named driver.
func Lookup(name string) (Registration, error) {
	mu.RLock()
	defer mu.RUnlock()
	r, ok := registry[name]
	if !ok {
		return Registration{}, fmt.Errorf("%w %q (known: %v)", ErrUnknownDriver, name, namesLocked())
	}
	return r, nil
}

// Names lists the registered drivers, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Load makes the driver of a stored machine from its saved JSON.
func Load(name string, base Base, raw json.RawMessage) (Driver, error) {
	r, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	d := r.New(base)
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, d); err != nil {
			return nil, fmt.Errorf("read %s driver settings: %w", name, err)
		}
	}
	return d, nil
}
