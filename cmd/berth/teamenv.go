package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/internal/envup"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/teamenv"
	"github.com/berthvm/berth/provision"
)

// The team environment commands (up, down, plan, lock) share -f.
func envFileFlag() cli.Flag {
	return &cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the environment `FILE` (default: berth.yaml in this folder or the nearest one above)"}
}

// loadEnv reads the environment file named by -f, else the nearest
// berth.yaml. A bad file is a usage error.
func loadEnv(file string) (*teamenv.Env, error) {
	env, err := teamenv.Load(teamenv.LoadOptions{File: file, DefaultDriver: bestDriver()})
	if err != nil {
		return nil, &usageError{err}
	}
	return env, nil
}

// bestDriver is the driver of machines whose berth.yaml names none:
// $BERTH_DRIVER, else qemu when it is installed, else virtualbox when
// VBoxManage is, else qemu (whose pre-create check says how to install it).
func bestDriver() string {
	if d := os.Getenv("BERTH_DRIVER"); d != "" {
		return d
	}
	for _, c := range []struct{ driver, prog string }{{"qemu", "qemu-system-x86_64"}, {"qemu", "qemu-system-aarch64"}, {"virtualbox", "VBoxManage"}} {
		if _, err := exec.LookPath(c.prog); err == nil {
			if _, err := drivers.Lookup(c.driver); err == nil {
				return c.driver
			}
		}
	}
	return "qemu"
}

// envMachines makes and runs an environment's machines the way create,
// start, stop, rm and provision do.
func (d *deps) envMachines() envup.Machines {
	return envup.Machines{
		Store: d.store,
		Create: func(ctx context.Context, m *teamenv.Machine, labels map[string]string, progress func(string)) error {
			reg, err := drivers.Lookup(m.Driver)
			if err != nil {
				return err
			}
			newDriver := func(base drivers.Base) (drivers.Driver, error) {
				drv := reg.New(base)
				if reg.Configure != nil {
					if err := reg.Configure(drv, envFlags{reg: reg, m: m, getenv: d.getenv}); err != nil {
						return nil, fmt.Errorf("%s driver settings: %w", m.Driver, err)
					}
				}
				return drv, nil
			}
			steps := d.steps
			steps.Progress = progress
			made, err := d.store.Create(ctx, machine.CreateSpec{
				Name: m.FullName, Labels: labels, NewDriver: newDriver,
				InsecureRegistries: m.InsecureRegistries, Shares: m.Shares,
			}, steps)
			if err != nil {
				return err
			}
			d.startHostAgent(ctx, made)
			return nil
		},
		Start: func(ctx context.Context, m *machine.Machine) error {
			st, _ := m.Driver.State(ctx)
			if st == drivers.StateRunning {
				if d.steps.AgentHealthy == nil {
					return nil
				}
				_, err := d.ensureHostAgent(ctx, m)
				return err
			}
			if err := d.withLock(m.Name, func() error { return d.store.Start(ctx, m, d.steps) }); err != nil {
				return err
			}
			if err := d.agentUp(ctx, m); err != nil {
				return err
			}
			if _, _, err := d.restoreForwards(ctx, m, true); err != nil {
				return err
			}
			d.startHostAgent(ctx, m)
			return nil
		},
		Stop: func(ctx context.Context, m *machine.Machine) error {
			lc, err := m.Lifecycle("stop")
			if err != nil {
				return err
			}
			return d.withLock(m.Name, func() error {
				d.stopHostAgent(ctx, m)
				return lc.Stop(ctx)
			})
		},
		Remove: func(ctx context.Context, m *machine.Machine) error {
			if err := hostagent.Stop(ctx, m.Dir); err != nil {
				return fmt.Errorf("remove machine %q: %w", m.Name, err)
			}
			return d.store.Remove(ctx, m.Name, false)
		},
		Provision: func(ctx context.Context, m *machine.Machine) error {
			_, err := bootstrap.Provision(ctx, m, provision.Options{Machine: m.Name, Binary: pickAgent})
			return err
		},
	}
}

// withLock runs f holding machine name's lock.
func (d *deps) withLock(name string, f func() error) error {
	unlock, err := d.store.Lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	return f()
}

// envFlags gives a driver its create flags for an environment's machine:
// cpus, memory and disk from berth.yaml, the others from their
// environment variables, else their defaults (as `berth create` reads
// them when no flag is given).
type envFlags struct {
	reg    drivers.Registration
	m      *teamenv.Machine
	getenv func(string) string
}

func (f envFlags) flag(name string) (drivers.Flag, string, bool) {
	for _, fl := range f.reg.Flags {
		if fl.Name == name {
			v := f.getenv(fl.EnvVar)
			return fl, v, v != ""
		}
	}
	return drivers.Flag{}, "", false
}

func (f envFlags) fromFile(name string) (int, bool) {
	cpus, mem, disk := teamenv.Sizes(f.m.Driver)
	switch {
	case name == cpus && f.m.CPUs > 0:
		return f.m.CPUs, true
	case name == mem && f.m.MemoryBytes > 0:
		return f.m.MemoryMB(), true
	case name == disk && f.m.DiskBytes > 0:
		return f.m.DiskMB(), true
	}
	return 0, false
}

func (f envFlags) String(name string) string {
	if name == f.m.Driver+"-iso" && f.m.ISO != "" {
		return f.m.ISO
	}
	fl, v, ok := f.flag(name)
	if ok {
		return v
	}
	s, _ := fl.Default.(string)
	return s
}

func (f envFlags) Int(name string) int {
	if n, ok := f.fromFile(name); ok {
		return n
	}
	fl, v, ok := f.flag(name)
	if ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	n, _ := fl.Default.(int)
	return n
}

func (f envFlags) Bool(name string) bool {
	fl, v, ok := f.flag(name)
	if ok {
		b, _ := strconv.ParseBool(v)
		return b
	}
	b, _ := fl.Default.(bool)
	return b
}

func (f envFlags) StringSlice(name string) []string {
	fl, v, ok := f.flag(name)
	if ok {
		return []string{v}
	}
	s, _ := fl.Default.([]string)
	return s
}

func (f envFlags) IsSet(name string) bool {
	if name == f.m.Driver+"-iso" && f.m.ISO != "" {
		return true
	}
	if _, ok := f.fromFile(name); ok {
		return true
	}
	_, _, ok := f.flag(name)
	return ok
}

// isoFor is the berth-os ISO a new machine m boots: its iso:, else the
// ISO its driver's environment variable names, else the default one.
func (d *deps) isoFor(ctx context.Context, m *teamenv.Machine) (string, error) {
	src, driver := m.ISO, m.Driver
	if reg, err := drivers.Lookup(driver); err == nil && src == "" {
		for _, fl := range reg.Flags {
			if fl.Name == driver+"-iso" {
				src = d.getenv(fl.EnvVar)
			}
		}
	}
	return (&isocache.Cache{Dir: d.store.CacheDir()}).Resolve(ctx, src)
}

// agentStartWait bounds how long up waits, after a machine booted, for
// the agent that berth-os starts once SSH answers.
const agentStartWait = 2 * time.Minute

// agentUp returns once m's agent answers its health check, asking again
// while berth-os is still starting it.
func (d *deps) agentUp(ctx context.Context, m *machine.Machine) error {
	if d.steps.AgentHealthy == nil {
		return nil
	}
	deadline := time.Now().Add(agentStartWait)
	for {
		err := d.steps.AgentHealthy(ctx, m)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Second):
		}
	}
}
