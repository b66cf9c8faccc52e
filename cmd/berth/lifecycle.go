package main

import (
	"context"
	"errors"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

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

// machineArgs is the NAME... arguments of a lifecycle command.
func machineArgs(c *cli.Context) []string { return c.Args().Slice() }
