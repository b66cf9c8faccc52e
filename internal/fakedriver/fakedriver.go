// Package fakedriver is a berth driver for tests: its "VM" is a JSON file
// in the machine folder. Only tests import it, so the berth binary never
// offers it; importing it registers the driver as "fake".
package fakedriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/drivers"
)

// Name is the registered name.
const Name = "fake"

// The steps that Fail can name.
const (
	FailPreCreate = "precreate"
	FailCreate    = "create"
	FailStart     = "start"
	FailRemove    = "remove"
)

// Driver is the fake driver. Its exported fields are its stored settings.
type Driver struct {
	base drivers.Base
	// Fail names a step that fails (FailPreCreate, FailCreate, ...).
	Fail string `json:",omitempty"`
	// HangState makes State block for an hour, ignoring its context, like
	// a hypervisor that stopped answering.
	HangState bool `json:",omitempty"`
	// Delay makes Create take this long (it honours its context).
	Delay time.Duration `json:",omitempty"`
	// SSHPort is the port SSHEndpoint reports.
	SSHPort int
}

// vm is what the fake hypervisor knows about a machine.
type vm struct {
	Running bool
}

func init() {
	drivers.Register(drivers.Registration{
		Name:        Name,
		Description: "a fake VM for tests",
		Flags: []drivers.Flag{
			{Name: "fake-fail", Usage: "the step that fails: precreate, create, start or remove", EnvVar: "FAKE_FAIL", Kind: drivers.FlagString},
			{Name: "fake-hang-state", Usage: "make State hang", EnvVar: "FAKE_HANG_STATE", Kind: drivers.FlagBool},
			{Name: "fake-delay", Usage: "how long Create takes", EnvVar: "FAKE_DELAY", Kind: drivers.FlagString},
			{Name: "fake-ssh-port", Usage: "the SSH port to report", EnvVar: "FAKE_SSH_PORT", Kind: drivers.FlagInt, Default: 2222},
		},
		New:       func(b drivers.Base) drivers.Driver { return New(b) },
		Configure: configure,
	})
}

// New returns a fake driver for the machine in b.
func New(b drivers.Base) *Driver { return &Driver{base: b, SSHPort: 2222} }

func configure(dd drivers.Driver, v drivers.FlagValues) error {
	d := dd.(*Driver)
	var errs []error
	d.Fail = v.String("fake-fail")
	switch d.Fail {
	case "", FailPreCreate, FailCreate, FailStart, FailRemove:
	default:
		errs = append(errs, fmt.Errorf("--fake-fail %q: want precreate, create, start or remove", d.Fail))
	}
	d.HangState = v.Bool("fake-hang-state")
	if s := v.String("fake-delay"); s != "" {
		delay, err := time.ParseDuration(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--fake-delay: %w", err))
		}
		d.Delay = delay
	}
	d.SSHPort = v.Int("fake-ssh-port")
	if d.SSHPort < 1 || d.SSHPort > 65535 {
		errs = append(errs, fmt.Errorf("--fake-ssh-port %d: want 1..65535", d.SSHPort))
	}
	return errors.Join(errs...)
}

// DriverName implements drivers.Driver.
func (d *Driver) DriverName() string { return Name }

// Capabilities implements drivers.Driver.
func (d *Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{Lifecycle: true}
}

func (d *Driver) path() string { return filepath.Join(d.base.Dir, "fake.json") }

func (d *Driver) read() (vm, error) {
	var v vm
	data, err := os.ReadFile(d.path())
	if errors.Is(err, fs.ErrNotExist) {
		return v, fmt.Errorf("fake VM %q: %w", d.base.MachineName, drivers.ErrMachineNotExist)
	}
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(data, &v)
}

func (d *Driver) write(v vm) error {
	data, _ := json.Marshal(v)
	return os.WriteFile(d.path(), data, 0o600)
}

func (d *Driver) failAt(step string) error {
	if d.Fail == step {
		return fmt.Errorf("fake %s failure", step)
	}
	return nil
}

// PreCreateCheck implements drivers.Driver.
func (d *Driver) PreCreateCheck(ctx context.Context) error {
	if err := d.failAt(FailPreCreate); err != nil {
		return fmt.Errorf("%w: %w", drivers.ErrPreCreate, err)
	}
	return nil
}

// Create implements drivers.Driver.
func (d *Driver) Create(ctx context.Context) error {
	if d.Delay > 0 {
		select {
		case <-time.After(d.Delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := d.failAt(FailCreate); err != nil {
		return err
	}
	return d.write(vm{})
}

// Remove implements drivers.Driver.
func (d *Driver) Remove(ctx context.Context) error {
	if err := d.failAt(FailRemove); err != nil {
		return err
	}
	if err := os.Remove(d.path()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// State implements drivers.Driver.
func (d *Driver) State(ctx context.Context) (drivers.State, error) {
	if d.HangState {
		time.Sleep(time.Hour)
	}
	v, err := d.read()
	if err != nil {
		return drivers.StateError, err
	}
	if v.Running {
		return drivers.StateRunning, nil
	}
	return drivers.StateStopped, nil
}

// SSHEndpoint implements drivers.Driver.
func (d *Driver) SSHEndpoint(ctx context.Context) (drivers.Endpoint, error) {
	v, err := d.read()
	if err != nil {
		return drivers.Endpoint{}, err
	}
	if !v.Running {
		return drivers.Endpoint{}, fmt.Errorf("fake VM %q is not running", d.base.MachineName)
	}
	return drivers.Endpoint{Host: "127.0.0.1", Port: d.SSHPort, User: "root"}, nil
}

// Start implements drivers.Lifecycle.
func (d *Driver) Start(ctx context.Context) error {
	if err := d.failAt(FailStart); err != nil {
		return err
	}
	return d.setRunning(true)
}

// Stop implements drivers.Lifecycle.
func (d *Driver) Stop(ctx context.Context) error { return d.setRunning(false) }

// Kill implements drivers.Lifecycle.
func (d *Driver) Kill(ctx context.Context) error { return d.setRunning(false) }

func (d *Driver) setRunning(running bool) error {
	v, err := d.read()
	if err != nil {
		return err
	}
	v.Running = running
	return d.write(v)
}
