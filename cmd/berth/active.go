package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

func activeCommand() *cli.Command {
	return &cli.Command{
		Name:  "active",
		Usage: "Print the machine commands use when none is named",
		Description: `Commands that work on one machine use, in order: the name given with -m
(or as their argument), $BERTH_MACHINE, or the machine called "default".

EXAMPLES:
   berth active
   export BERTH_MACHINE=dev; berth active`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() > 0 {
				return usagef("active takes no arguments")
			}
			return runActive(c.Context, d)
		},
	}
}

func runActive(ctx context.Context, d *deps) error {
	name, err := d.targetMachine("")
	if err != nil {
		return err
	}
	if !d.store.Exists(name) {
		return fmt.Errorf("%w: %q, named by $BERTH_MACHINE (see `berth ls`)", machine.ErrNotFound, name)
	}
	_, err = fmt.Fprintln(d.stdout, name)
	return err
}
