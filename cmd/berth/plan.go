package main

import (
	"context"
	"encoding/json"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/envup"
)

type planOptions struct {
	File     string
	Machines []string
	JSON     bool
}

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "Show what berth up would change in a team environment",
		ArgsUsage: "[MACHINE...]",
		Description: `Compares berth.yaml (and berth.override.yaml) with the machines and their
services as they are, and prints what berth up would do: machines to
create or start, settings that differ and what each needs (cpus, memory,
shares, insecure-registries: a restart; disk: grows only; driver: a new
machine, with --recreate), services to create, recreate or remove. It
changes nothing. "Nothing to do" means the environment matches its file.

EXAMPLES:
   berth plan
   berth plan app
   berth plan --json`,
		Flags: []cli.Flag{envFileFlag(), &cli.BoolFlag{Name: "json", Usage: "print the plan as JSON"}},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runPlan(c.Context, planOptions{File: c.String("file"), Machines: c.Args().Slice(), JSON: c.Bool("json")}, d)
		},
	}
}

func runPlan(ctx context.Context, opts planOptions, d *deps) error {
	env, err := loadEnv(opts.File)
	if err != nil {
		return err
	}
	p, err := envup.MakePlan(ctx, env, d.envMachines(), envServices(), opts.Machines)
	if err != nil {
		return err
	}
	if opts.JSON {
		return json.NewEncoder(d.stdout).Encode(p)
	}
	p.Print(d.stdout)
	return nil
}
