package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
)

type statusOptions struct {
	Name string // empty: the active machine
}

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "Print a machine's state (Running, Stopped, ...)",
		ArgsUsage: "[NAME]",
		Description: `Asks the machine's driver for its state. Without NAME, uses the active
machine (see ` + "`berth active`" + `).

EXAMPLES:
   berth status dev
   BERTH_MACHINE=dev berth status`,
		Action: onOneMachine(func(ctx context.Context, d *deps, name string) error {
			return runStatus(ctx, statusOptions{Name: name}, d)
		}),
	}
}

func runStatus(ctx context.Context, opts statusOptions, d *deps) error {
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	name := m.Name
	st, err := m.Driver.State(ctx)
	if err != nil {
		return fmt.Errorf("state of machine %q: %w", name, err)
	}
	_, err = fmt.Fprintln(d.stdout, st)
	return err
}
