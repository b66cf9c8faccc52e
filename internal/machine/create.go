package machine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/berthvm/berth/drivers"
)

// CreateSpec says what machine to create.
type CreateSpec struct {
	Name   string
	Labels map[string]string
	// InsecureRegistries go into the machine's config (see Config).
	InsecureRegistries []string
	// Shares are host folders shared into the machine (see Config). Create
	// checks them with ValidateShares before it makes anything.
	Shares []drivers.Share
	// NewDriver makes the machine's driver from base, configured with the
	// user's flags (the registry's New and Configure).
	NewDriver func(base drivers.Base) (drivers.Driver, error)
	// KeepOnError keeps a machine whose start, SSH or provisioning failed,
	// with the error recorded in its config (ls shows it, rm removes it).
	// Without it a failed create removes everything it made. An
	// interrupted create (ctx cancelled) always removes everything.
	KeepOnError bool
}

// Steps are the parts of the create sequence that other packages provide.
// A nil step is skipped.
type Steps struct {
	// MakeKey makes the machine's SSH key pair in dir and returns the
	// authorized_keys line that drivers put into the machine.
	MakeKey func(ctx context.Context, dir string) (authorizedKey string, err error)
	// WaitSSH returns once the machine's SSH server answers.
	WaitSSH func(ctx context.Context, m *Machine) error
	// Provision puts the agent onto the machine.
	Provision func(ctx context.Context, m *Machine) error
	// AgentHealthy returns once the agent answers its health check.
	AgentHealthy func(ctx context.Context, m *Machine) error
	// Progress is told each step as it begins, for the CLI to show.
	Progress func(step string)
	// Done is told each step that ended without error, with how long it
	// took.
	Done func(step string, took time.Duration)
}

// Step runs f as the step called name of steps: Progress is told when it
// begins and Done how long it took when it succeeds.
func (steps Steps) Step(ctx context.Context, name string, f func(ctx context.Context) error) error {
	if steps.Progress != nil {
		steps.Progress(name)
	}
	began := time.Now()
	if err := f(ctx); err != nil {
		return err
	}
	if steps.Done != nil {
		steps.Done(name, time.Since(began))
	}
	return nil
}

// RollbackTimeout bounds the clean-up after a failed or interrupted create.
var RollbackTimeout = 2 * time.Minute

// creatingNote is the error a machine carries while it is being created,
// so that one left by a killed berth process shows in ls and rm removes it.
const creatingNote = "create did not finish (in progress or interrupted)"

// Create runs the create sequence: validate the name, take the machine's
// lock, pre-create check, driver Create, Start (drivers with Lifecycle),
// wait for SSH, provision, wait for the agent. On failure it removes what
// it made (see CreateSpec.KeepOnError).
func (s *Store) Create(ctx context.Context, spec CreateSpec, steps Steps) (*Machine, error) {
	name := spec.Name
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if spec.NewDriver == nil {
		return nil, fmt.Errorf("create machine %q: no driver", name)
	}
	if err := ValidateShares(spec.Shares); err != nil {
		return nil, fmt.Errorf("create machine %q: %w", name, err)
	}
	if err := os.MkdirAll(s.Dir(""), 0o700); err != nil {
		return nil, fmt.Errorf("create machine %q: %w", name, err)
	}
	unlock, err := s.Lock(name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	dir := s.Dir(name)
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("create machine %q: %w (`berth rm %s` removes it)", name, ErrExists, name)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create machine %q: %w", name, err)
	}

	c := &creation{store: s, spec: spec, steps: steps, ctx: ctx}
	m, err := c.run()
	if err != nil {
		return nil, c.fail(err)
	}
	return m, nil
}

// creation is one run of the create sequence.
type creation struct {
	store *Store
	spec  CreateSpec
	steps Steps
	ctx   context.Context
	m     *Machine // set once the driver exists
	made  bool     // driver Create was called: the VM may exist
	begun bool     // the VM was created; later failures may be kept
}

// stepError names the step that failed.
type stepError struct {
	step string
	err  error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func (c *creation) do(step string, f func(ctx context.Context) error) error {
	if err := c.ctx.Err(); err != nil {
		return &stepError{step, err}
	}
	if err := c.steps.Step(c.ctx, step, f); err != nil {
		return &stepError{step, err}
	}
	if err := c.ctx.Err(); err != nil {
		return &stepError{step, err}
	}
	return nil
}

func (c *creation) run() (*Machine, error) {
	s, name := c.store, c.spec.Name
	base := s.Base(name)
	base.Shares = c.spec.Shares
	base.Hidden = HiddenGuestPaths(s.Root, c.spec.Shares)
	if c.steps.MakeKey != nil {
		if err := c.do("making the SSH key", func(ctx context.Context) error {
			key, err := c.steps.MakeKey(ctx, base.Dir)
			base.SSHPublicKey = key
			return err
		}); err != nil {
			return nil, err
		}
	}
	d, err := c.spec.NewDriver(base)
	if err != nil {
		return nil, &stepError{"configuring the driver", err}
	}
	c.m = &Machine{
		Config: Config{Name: name, Labels: c.spec.Labels, InsecureRegistries: c.spec.InsecureRegistries, Shares: c.spec.Shares, Created: time.Now().UTC(), Error: creatingNote},
		Dir:    base.Dir,
		Driver: d,
	}
	if err := s.Save(c.m); err != nil {
		return nil, err
	}
	if err := c.do("checking the host", d.PreCreateCheck); err != nil {
		return nil, err
	}
	c.made = true
	if err := c.do("creating the VM", d.Create); err != nil {
		return nil, err
	}
	c.begun = true
	if err := s.Save(c.m); err != nil { // the driver may have chosen ports, paths
		return nil, err
	}
	if lc, ok := d.(drivers.Lifecycle); ok {
		if err := c.do("starting the VM", lc.Start); err != nil {
			return nil, err
		}
	}
	for _, st := range []struct {
		name string
		f    func(context.Context, *Machine) error
	}{
		{"waiting for SSH", c.steps.WaitSSH},
		{"provisioning", c.steps.Provision},
		{"waiting for the agent", c.steps.AgentHealthy},
	} {
		if st.f == nil {
			continue
		}
		if err := c.do(st.name, func(ctx context.Context) error { return st.f(ctx, c.m) }); err != nil {
			return nil, err
		}
	}
	c.m.Error = ""
	if err := s.Save(c.m); err != nil {
		return nil, err
	}
	return c.m, nil
}

// fail cleans up after err: it keeps the machine with its error when asked
// to and the VM exists, otherwise removes the VM and the folder.
func (c *creation) fail(err error) error {
	name := c.spec.Name
	err = fmt.Errorf("create machine %q: %w", name, err)
	interrupted := c.ctx.Err() != nil
	if c.spec.KeepOnError && c.begun && !interrupted {
		c.m.Error = err.Error()
		if serr := c.store.Save(c.m); serr != nil {
			return errors.Join(err, serr)
		}
		return fmt.Errorf("%w (the machine is kept for inspection; `berth rm %s` removes it)", err, name)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), RollbackTimeout)
	defer cancel()
	if c.made {
		if rerr := c.m.Driver.Remove(ctx); rerr != nil {
			c.m.Error = err.Error()
			c.store.Save(c.m)
			return errors.Join(err, fmt.Errorf("roll back: remove the VM: %w (`berth rm -f %s` retries)", rerr, name))
		}
	}
	if rerr := os.RemoveAll(c.store.Dir(name)); rerr != nil {
		return errors.Join(err, fmt.Errorf("roll back: %w", rerr))
	}
	return err
}
