package teamenv

import (
	"sort"

	"github.com/berthvm/berth/drivers"
)

// FileName is the environment file `berth up` looks for; OverrideName is
// the per-user file beside it (meant to be git-ignored); LockName is what
// `berth lock` writes beside it.
const (
	FileName     = "berth.yaml"
	OverrideName = "berth.override.yaml"
	LockName     = "berth.lock"
)

// LabelEnv and LabelEnvFile are the labels every machine of an
// environment carries: the environment's name and the absolute path of its
// berth.yaml.
const (
	LabelEnv     = "berth.env"
	LabelEnvFile = "berth.env.file"
)

// Env is a loaded, defaulted and validated environment.
type Env struct {
	Name string
	// File is the absolute path of berth.yaml; Dir its folder, which
	// relative paths in it are taken from.
	File, Dir string
	// Override is the absolute path of the override file applied, or "".
	Override string
	// Machines by their short name ("app").
	Machines map[string]*Machine

	nameLine, machinesLine int
}

// Machine is one machine of the environment, as the file (and override)
// asks for it.
type Machine struct {
	// Name is the short name in the file ("app"); FullName is the
	// machine's berth name ("shop-app").
	Name, FullName string
	Driver         string
	CPUs           int   // 0: the driver's default
	MemoryBytes    int64 // 0: the driver's default
	DiskBytes      int64 // 0: the driver's default
	Shares         []drivers.Share
	// InsecureRegistries are host[:port] entries.
	InsecureRegistries []string
	// Compose are the absolute paths of the machine's compose files.
	Compose   []string
	Profiles  []string
	DependsOn []string
	// ISO is the berth-os ISO the machine boots (a path made absolute, or
	// a URL); empty means the driver's default.
	ISO string
	// Line is where the machine is defined in berth.yaml.
	Line int

	lines map[string]int // key -> line of its value
}

// Names lists the environment's machines in an order where every machine
// comes after those it depends on (ties by name).
func (e *Env) Names() []string {
	var out []string
	done := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		if done[n] {
			return
		}
		done[n] = true
		for _, d := range e.Machines[n].DependsOn {
			visit(d)
		}
		out = append(out, n)
	}
	for _, n := range e.sortedNames() {
		visit(n)
	}
	return out
}

func (e *Env) sortedNames() []string {
	names := make([]string, 0, len(e.Machines))
	for n := range e.Machines {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Labels are the labels of the environment's machines.
func (e *Env) Labels() map[string]string {
	return map[string]string{LabelEnv: e.Name, LabelEnvFile: e.File}
}

// MemoryMB and DiskMB are the sizes in the MB the drivers take (0: the
// driver's default).
func (m *Machine) MemoryMB() int { return int(m.MemoryBytes >> 20) }

// DiskMB is the disk size in MB (0: the driver's default).
func (m *Machine) DiskMB() int { return int(m.DiskBytes >> 20) }
