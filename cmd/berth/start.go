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
	Quiet bool     // no steps
	JSON  bool     // the steps as JSON events on stdout
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start machines",
		ArgsUsage: "[NAME...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no steps, only the machines started and errors"},
			&cli.BoolFlag{Name: "json", Usage: "print each step's beginning and end (with its duration) as a JSON event a line on stdout"},
		},
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

Each step is printed on stderr when it begins and, with its duration, when
it ends; --json prints them as JSON events on stdout instead (see
` + "`berth create --help`" + `), ending with a "ready" event per machine.

EXAMPLES:
   berth start dev
   berth start web1 web2
   berth start --json dev`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			opts := startOptions{Names: machineArgs(c), Quiet: c.Bool("quiet"), JSON: c.Bool("json")}
			return d.containerHint(c.Context, "start", machineArgs(c), runStart(c.Context, opts, d))
		},
	}
}

func runStart(ctx context.Context, opts startOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, true, func(ctx context.Context, m *machine.Machine) error {
		report := newStepReport(nil, false, m.Name)
		switch {
		case opts.JSON:
			report = newStepReport(d.stdout, true, m.Name)
		case !opts.Quiet:
			report = newStepReport(d.stderr, false, m.Name)
		}
		steps := report.hook(d.steps)
		st, _ := m.Driver.State(ctx)
		if err := d.store.Start(ctx, m, steps); err != nil {
			return err
		}
		if !opts.JSON {
			fmt.Fprintf(d.stdout, "Started %s\n", m.Name)
		}
		var added, removed []drivers.Forward
		err := steps.Step(ctx, "waiting for the agent, restoring port forwards", func(ctx context.Context) (err error) {
			added, removed, err = d.restoreForwards(ctx, m, st != drivers.StateRunning)
			return err
		})
		if !opts.JSON {
			reportForwards(d.stdout, m.Name, added, removed)
		}
		steps.Step(ctx, "starting the host agent", func(ctx context.Context) error { d.startHostAgent(ctx, m); return nil })
		if err == nil {
			report.ready()
		}
		return err
	})
}
