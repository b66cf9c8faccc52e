package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

type restartOptions struct {
	Names []string // empty: the active machine
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "Stop machines gracefully and start them again",
		ArgsUsage: "[NAME...]",
		Description: `Stops each machine as ` + "`berth stop`" + ` does, then starts it as ` + "`berth start`" + `
does and waits for SSH. A stopped machine is simply started. The published
ports of the containers running again afterwards (--restart always or
unless-stopped) are forwarded from this computer again.

EXAMPLES:
   berth restart dev`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "restart", machineArgs(c), runRestart(c.Context, restartOptions{Names: machineArgs(c)}, d))
		},
	}
}

func runRestart(ctx context.Context, opts restartOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, true, func(ctx context.Context, m *machine.Machine) error {
		lc, err := m.Lifecycle("restart")
		if err != nil {
			return err
		}
		d.stopHostAgent(ctx, m)
		if err := lc.Stop(ctx); err != nil {
			return err
		}
		if err := d.store.Start(ctx, m, d.steps); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Restarted %s\n", m.Name)
		added, removed, err := d.restoreForwards(ctx, m, true)
		reportForwards(d.stdout, m.Name, added, removed)
		d.startHostAgent(ctx, m)
		return err
	})
}
