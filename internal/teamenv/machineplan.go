package teamenv

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	units "github.com/docker/go-units"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// The actions a machine change needs.
const (
	ActCreate   = "create"   // the machine does not exist
	ActStart    = "start"    // it exists and is stopped
	ActRestart  = "restart"  // a setting changes: stop, change, start
	ActRecreate = "recreate" // only removing and creating it again applies it
	ActRefuse   = "refused"  // cannot be done (a disk that would shrink)
)

// Change is one thing `berth up` changes on a machine.
type Change struct {
	Machine string // the short name ("app")
	Action  string
	// Setting is the setting that differs ("memory"), empty for create
	// and start.
	Setting  string
	From, To string
	// Note says more (why a recreate is needed, that it is refused).
	Note string
}

func (c Change) String() string {
	switch {
	case c.Setting == "":
		return fmt.Sprintf("%s: %s", c.Machine, c.Action)
	case c.Note != "":
		return fmt.Sprintf("%s: %s %s -> %s (%s: %s)", c.Machine, c.Setting, c.From, c.To, c.Action, c.Note)
	}
	return fmt.Sprintf("%s: %s %s -> %s (%s)", c.Machine, c.Setting, c.From, c.To, c.Action)
}

// sizeFlags name, per driver, the create flags and the config.json keys
// of the settings berth.yaml sets.
type sizeFlags struct {
	cpus, memory, disk       string // create flags
	jsonCPUs, jsonMem, jsonD string // keys of the driver's config
	// inPlace says the driver applies cpus and memory at its next start
	// from its config (QEMU builds its command line at each start).
	inPlace bool
}

var driverSizes = map[string]sizeFlags{
	"qemu":       {"qemu-cpus", "qemu-memory", "qemu-disk-size", "CPUs", "MemoryMB", "DiskSizeMB", true},
	"virtualbox": {"virtualbox-cpu-count", "virtualbox-memory", "virtualbox-disk-size", "cpus", "memoryMB", "diskMB", false},
	"fake":       {"", "", "", "", "", "", true},
}

// Sizes says the create flags of driver for cpus, memory and disk (empty
// when the driver has none).
func Sizes(driver string) (cpus, memory, disk string) {
	s := driverSizes[driver]
	return s.cpus, s.memory, s.disk
}

// Settings are a machine's settings as berth.yaml can set them.
type Settings struct {
	Driver             string
	CPUs, MemoryMB     int
	DiskMB             int
	Shares             []drivers.Share
	InsecureRegistries []string
}

// Have reads the settings of a stored machine.
func Have(m *machine.Machine) Settings {
	s := Settings{Driver: m.DriverName, Shares: m.Shares, InsecureRegistries: m.InsecureRegistries}
	f, ok := driverSizes[m.DriverName]
	if !ok {
		return s
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(m.Config.Driver, &raw) != nil {
		return s
	}
	num := func(k string) int {
		var n int
		if k != "" {
			json.Unmarshal(raw[k], &n)
		}
		return n
	}
	s.CPUs, s.MemoryMB, s.DiskMB = num(f.jsonCPUs), num(f.jsonMem), num(f.jsonD)
	return s
}

// Want is what the file asks of m, with the driver's defaults where it is
// silent.
func (m *Machine) Want() Settings {
	s := Settings{Driver: m.Driver, CPUs: m.CPUs, MemoryMB: m.MemoryMB(), DiskMB: m.DiskMB(), Shares: m.Shares, InsecureRegistries: m.InsecureRegistries}
	reg, err := drivers.Lookup(m.Driver)
	if err != nil {
		return s
	}
	f := driverSizes[m.Driver]
	def := func(name string) int {
		for _, fl := range reg.Flags {
			if fl.Name == name {
				if v, ok := fl.Default.(int); ok {
					return v
				}
			}
		}
		return 0
	}
	if s.CPUs == 0 {
		s.CPUs = def(f.cpus)
	}
	if s.MemoryMB == 0 {
		s.MemoryMB = def(f.memory)
	}
	if s.DiskMB == 0 {
		s.DiskMB = def(f.disk)
	}
	return s
}

// MachinePlan is what `berth up` does to bring the stored machine have
// (nil: none) in line with want; running says whether it runs now.
func MachinePlan(want *Machine, have *machine.Machine, running bool) []Change {
	if have == nil {
		return []Change{{Machine: want.Name, Action: ActCreate}}
	}
	w, h := want.Want(), Have(have)
	var out []Change
	if w.Driver != h.Driver {
		return []Change{{Machine: want.Name, Action: ActRecreate, Setting: "driver", From: h.Driver, To: w.Driver,
			Note: "a machine cannot change its driver; berth up --recreate removes it (and its containers and volumes) and creates it again"}}
	}
	inPlace := driverSizes[w.Driver].inPlace
	sizeChange := func(setting, from, to string) Change {
		c := Change{Machine: want.Name, Action: ActRestart, Setting: setting, From: from, To: to}
		if !inPlace {
			c.Action = ActRecreate
			c.Note = "the " + w.Driver + " driver cannot change it on an existing machine; berth up --recreate makes the machine again"
		}
		return c
	}
	if w.CPUs != 0 && h.CPUs != 0 && w.CPUs != h.CPUs {
		out = append(out, sizeChange("cpus", fmt.Sprint(h.CPUs), fmt.Sprint(w.CPUs)))
	}
	if w.MemoryMB != 0 && h.MemoryMB != 0 && w.MemoryMB != h.MemoryMB {
		out = append(out, sizeChange("memory", mb(h.MemoryMB), mb(w.MemoryMB)))
	}
	if w.DiskMB != 0 && h.DiskMB != 0 && w.DiskMB != h.DiskMB {
		c := Change{Machine: want.Name, Setting: "disk", From: mb(h.DiskMB), To: mb(w.DiskMB)}
		if w.DiskMB < h.DiskMB {
			c.Action, c.Note = ActRefuse, "a disk only grows; berth up --recreate makes the machine again with the smaller disk (its data is lost)"
		} else {
			c.Action, c.Note = ActRecreate, "this berth does not grow a disk in place; berth up --recreate makes the machine again (its data is lost)"
		}
		out = append(out, c)
	}
	if !slices.Equal(w.Shares, h.Shares) {
		out = append(out, Change{Machine: want.Name, Action: ActRestart, Setting: "shares", From: shareList(h.Shares), To: shareList(w.Shares)})
	}
	if !slices.Equal(w.InsecureRegistries, h.InsecureRegistries) {
		out = append(out, Change{Machine: want.Name, Action: ActRestart, Setting: "insecure-registries", From: list(h.InsecureRegistries), To: list(w.InsecureRegistries)})
	}
	if len(out) == 0 && !running {
		out = append(out, Change{Machine: want.Name, Action: ActStart})
	}
	return out
}

// Needs is the strongest action of changes: recreate over restart over
// start; refused when any is refused.
func Needs(changes []Change) string {
	rank := map[string]int{"": 0, ActStart: 1, ActRestart: 2, ActCreate: 3, ActRecreate: 4, ActRefuse: 5}
	best := ""
	for _, c := range changes {
		if rank[c.Action] > rank[best] {
			best = c.Action
		}
	}
	return best
}

// Apply sets want's sizes into the stored machine's driver settings (for
// a restart to use them) and its shares and registries into its config.
// The caller holds the machine's lock and saves it.
func Apply(store *machine.Store, want *Machine, have *machine.Machine) error {
	w := want.Want()
	have.Shares = w.Shares
	have.InsecureRegistries = w.InsecureRegistries
	f := driverSizes[have.DriverName]
	var raw map[string]any
	if err := json.Unmarshal(have.Config.Driver, &raw); err != nil {
		return fmt.Errorf("machine %q: driver settings: %w", have.Name, err)
	}
	for k, v := range map[string]int{f.jsonCPUs: w.CPUs, f.jsonMem: w.MemoryMB} {
		if k != "" && v != 0 {
			raw[k] = v
		}
	}
	data, err := json.Marshal(raw)
	if err != nil {
		return err
	}
	base := store.Base(have.Name)
	base.Shares = have.Shares
	d, err := drivers.Load(have.DriverName, base, data)
	if err != nil {
		return fmt.Errorf("machine %q: %w", have.Name, err)
	}
	have.Driver, have.Config.Driver = d, data
	return nil
}

func mb(n int) string { return units.BytesSize(float64(n) * (1 << 20)) }

func shareList(s []drivers.Share) string {
	if len(s) == 0 {
		return "(none)"
	}
	out := make([]string, len(s))
	for i, sh := range s {
		out[i] = sh.HostPath + ":" + sh.GuestPath
	}
	return strings.Join(out, ",")
}

func list(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return strings.Join(s, ",")
}
