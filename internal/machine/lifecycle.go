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
func (s *Store) Start(ctx context.Context, m *Machine, steps Steps) error {
	lc, err := m.Lifecycle("start")
	if err != nil {
		return err
	}
	if err := lc.Start(ctx); err != nil {
		return err
	}
	if err := s.Save(m); err != nil {
		return err
	}
	if steps.WaitSSH != nil {
		if err := steps.WaitSSH(ctx, m); err != nil {
			return fmt.Errorf("start machine %q: %w", m.Name, err)
		}
	}
	return nil
}
