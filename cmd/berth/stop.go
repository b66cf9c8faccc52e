package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

type stopOptions struct {
	Names []string // empty: the active machine
}

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "Stop machines gracefully",
		ArgsUsage: "[NAME...]",
		Description: `Presses each machine's power button (ACPI), so that the guest stops its
containers, syncs and unmounts its data disk and powers off, and waits for
it. A machine that does not power off in time is killed. A stopped machine
is left as it is. Data under /var/lib/berth is kept for the next start.

EXAMPLES:
   berth stop dev
   berth stop web1 web2`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "stop", machineArgs(c), runStop(c.Context, stopOptions{Names: machineArgs(c)}, d))
		},
	}
}

func runStop(ctx context.Context, opts stopOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, true, func(ctx context.Context, m *machine.Machine) error {
		lc, err := m.Lifecycle("stop")
		if err != nil {
			return err
		}
		d.stopHostAgent(ctx, m)
		if err := lc.Stop(ctx); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Stopped %s\n", m.Name)
		return nil
	})
}
