package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// lifecycleOf returns the Lifecycle role of m's driver, or an error
// wrapping drivers.ErrNotSupported that names the driver.
func lifecycleOf(m *machine.Machine, verb string) (drivers.Lifecycle, error) {
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

// eachMachine runs f on every named machine (the active one when names is
// empty), one after the other, holding each machine's lock when lock is
// set. It keeps going after a failure and returns every failure.
func (d *deps) eachMachine(ctx context.Context, names []string, lock bool, f func(ctx context.Context, m *machine.Machine) error) error {
	if len(names) == 0 {
		name, err := d.targetMachine("")
		if err != nil {
			return err
		}
		names = []string{name}
	}
	var errs []error
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := d.onMachine(ctx, name, lock, f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (d *deps) onMachine(ctx context.Context, name string, lock bool, f func(ctx context.Context, m *machine.Machine) error) error {
	if err := machine.ValidateName(name); err != nil {
		return err
	}
	if lock {
		unlock, err := d.store.Lock(name)
		if err != nil {
			return err
		}
		defer unlock()
	}
	m, err := d.store.Load(name)
	if err != nil {
		return err
	}
	return f(ctx, m)
}

// startMachine starts m, saves the settings the driver changed on the way
// (a new SSH port) and waits for SSH when that step is plugged in.
func (d *deps) startMachine(ctx context.Context, m *machine.Machine) error {
	lc, err := lifecycleOf(m, "start")
	if err != nil {
		return err
	}
	if err := lc.Start(ctx); err != nil {
		return err
	}
	if err := d.store.Save(m); err != nil {
		return err
	}
	if d.steps.WaitSSH != nil {
		if err := d.steps.WaitSSH(ctx, m); err != nil {
			return fmt.Errorf("start machine %q: %w", m.Name, err)
		}
	}
	return nil
}

// machineArgs is the NAME... arguments of a lifecycle command.
func machineArgs(c *cli.Context) []string { return c.Args().Slice() }
