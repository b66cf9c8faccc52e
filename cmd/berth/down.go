package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/envup"
)

type downOptions struct {
	File     string
	Machines []string
	Volumes  bool
	Destroy  bool
}

func downCommand() *cli.Command {
	return &cli.Command{
		Name:      "down",
		Usage:     "Take a team environment (berth.yaml) down: remove its services, stop its machines",
		ArgsUsage: "[MACHINE...]",
		Description: `Removes the environment's compose services and stops its machines, the
machines that others depend on last. Volumes are kept (their data is there
at the next berth up) unless --volumes, which starts a stopped machine to
remove them and stops it again; --destroy removes the machines
themselves. Machines of the same name that are not part of the
environment are left alone.

EXAMPLES:
   berth down
   berth down app
   berth down --volumes
   berth down --destroy`,
		Flags: []cli.Flag{
			envFileFlag(),
			&cli.BoolFlag{Name: "volumes", Usage: "also remove the services' volumes"},
			&cli.BoolFlag{Name: "destroy", Usage: "remove the machines (VMs, disks, everything)"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runDown(c.Context, downOptions{File: c.String("file"), Machines: c.Args().Slice(), Volumes: c.Bool("volumes"), Destroy: c.Bool("destroy")}, d)
		},
	}
}

func runDown(ctx context.Context, opts downOptions, d *deps) error {
	env, err := loadEnv(opts.File)
	if err != nil {
		return err
	}
	d, progress := envOutput(d, false)
	err = envup.Down(ctx, env, d.envMachines(), envServices(), envup.DownOptions{
		Machines: opts.Machines, Volumes: opts.Volumes, Destroy: opts.Destroy, Progress: progress,
	})
	if err != nil {
		return err
	}
	verb := "down"
	if opts.Destroy {
		verb = "destroyed"
	}
	fmt.Fprintf(d.stdout, "Environment %s is %s.\n", env.Name, verb)
	return nil
}
