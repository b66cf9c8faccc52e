package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

type killOptions struct {
	Names []string // empty: the active machine
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "Stop machines at once, without a shutdown",
		ArgsUsage: "[NAME...]",
		Description: `Pulls the plug: the VM stops at once, as after a power cut. The guest's
data disk survives (it is checked at the next boot), but writes in flight
may be lost; prefer ` + "`berth stop`" + `. Kill does not wait for another berth
command working on the machine, so it also ends a start that hangs.

EXAMPLES:
   berth kill dev`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "kill", machineArgs(c), runKill(c.Context, killOptions{Names: machineArgs(c)}, d))
		},
	}
}

func runKill(ctx context.Context, opts killOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, false, func(ctx context.Context, m *machine.Machine) error {
		lc, err := m.Lifecycle("kill")
		if err != nil {
			return err
		}
		d.stopHostAgent(ctx, m)
		if err := lc.Kill(ctx); err != nil {
			return err
		}
		fmt.Fprintf(d.stdout, "Killed %s\n", m.Name)
		return nil
	})
}
