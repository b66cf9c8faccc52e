package machine

import (
	"context"
	"fmt"

	"github.com/berthvm/berth/drivers"
)

// Lifecycle returns the Lifecycle role of m's driver, or an error wrapping
// drivers.ErrNotSupported that names the driver and the verb ("start",
// "stop", ...) it cannot do.
func (m *Machine) Lifecycle(verb string) (drivers.Lifecycle, error) {
	lc, ok := m.Driver.(drivers.Lifecycle)
	if !ok {
		why := fmt.Sprintf("the %s driver cannot %s machines", m.DriverName, verb)
		if w, ok := m.Driver.(interface{ WhyNoLifecycle() string }); ok {
			why = w.WhyNoLifecycle() // e.g. generic hosts
		}
		return nil, fmt.Errorf("%s machine %q: %s: %w", verb, m.Name, why, drivers.ErrNotSupported)
	}
	return lc, nil
}

// Start starts m, saves the settings its driver changed on the way (a new
// SSH port) and waits for SSH with steps.WaitSSH when it is set. The
// caller holds m's lock.
//
// While it runs, the machine's config carries startingNote as its error
// (unless it has one already), so that a start whose berth process was
// killed shows in ls; it is taken off when the start succeeds.
func (s *Store) Start(ctx context.Context, m *Machine, steps Steps) error {
	lc, err := m.Lifecycle("start")
	if err != nil {
		return err
	}
	noted := m.Error == "" || m.Error == startingNote
	if noted {
		m.Error = startingNote
		if err := s.Save(m); err != nil {
			return err
		}
	}
	if err := steps.Step(ctx, "starting the VM", lc.Start); err != nil {
		return s.endStart(m, noted, err)
	}
	if err := s.Save(m); err != nil {
		return err
	}
	if steps.WaitSSH != nil {
		if err := steps.Step(ctx, "waiting for SSH", func(ctx context.Context) error { return steps.WaitSSH(ctx, m) }); err != nil {
			return s.endStart(m, noted, fmt.Errorf("start machine %q: %w", m.Name, err))
		}
	}
	return s.endStart(m, noted, nil)
}

// startingNote is the error a machine carries while it starts.
const startingNote = "start did not finish (in progress or interrupted): `berth start` it again, or `berth rm` it"

// endStart takes the starting note off m (when Start put it on) and
// returns err: a failed start is reported by the command, and the next
// start tries again.
func (s *Store) endStart(m *Machine, noted bool, err error) error {
	if !noted {
		return err
	}
	m.Error = ""
	if serr := s.Save(m); serr != nil && err == nil {
		return serr
	}
	return err
}
