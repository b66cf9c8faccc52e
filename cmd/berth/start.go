package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

type startOptions struct {
	Names []string // empty: the active machine
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start machines",
		ArgsUsage: "[NAME...]",
		Description: `Boots each machine and waits until its SSH server answers. A running
machine is left as it is. Without NAME, starts the active machine. With
several names, starts them one after the other, keeps going past a failure
and reports every failure.

A QEMU machine keeps its SSH port across restarts while the port is free and
gets another one when something else took it.

Once the machine's agent answers, the ports its running containers publish
(those with --restart always or unless-stopped come back by themselves) are
forwarded from this computer again, and forwards left by containers that did
not come back are removed.

EXAMPLES:
   berth start dev
   berth start web1 web2`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "start", machineArgs(c), runStart(c.Context, startOptions{Names: machineArgs(c)}, d))
		},
	}
}

func runStart(ctx context.Context, opts startOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, true, func(ctx context.Context, m *machine.Machine) error {
		st, _ := m.Driver.State(ctx)
		if err := d.store.Start(ctx, m, d.steps); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Started %s\n", m.Name)
		added, removed, err := d.restoreForwards(ctx, m, st != drivers.StateRunning)
		reportForwards(d.stdout, m.Name, added, removed)
		d.startHostAgent(ctx, m)
		return err
	})
}
