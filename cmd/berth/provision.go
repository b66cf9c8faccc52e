package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/provision"
)

type provisionOptions struct {
	Names   []string
	Upgrade bool
	// Insecure, when set, replaces each machine's insecure registries.
	Insecure    []string
	SetInsecure bool
}

func provisionCommand() *cli.Command {
	return &cli.Command{
		Name:      "provision",
		Usage:     "Install or repair the berth agent on machines",
		ArgsUsage: "NAME...",
		Description: `Puts this berth's agent on each running machine (over SSH: upload, checksum
check, rename), installs it as a supervised service (berth-os's agent slot,
or a systemd unit on other hosts) and waits until it answers. ` + "`create`" + `
does this already; run it again to repair a machine. A machine that already
runs this agent is left unchanged.

--insecure-registry replaces the registries the machine may pull from over
plain HTTP (the ones given at create); --insecure-registry "" removes them.

EXAMPLES:
   berth provision dev
   berth provision dev web db
   berth provision --insecure-registry 10.0.2.2:5000 dev`,
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: insecureRegistryFlagUsage},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return usagef("provision takes one or more machine names")
			}
			return runProvision(c.Context, provisionOptions{Names: c.Args().Slice(),
				Insecure: c.StringSlice("insecure-registry"), SetInsecure: c.IsSet("insecure-registry")}, d)
		},
	}
}

// runProvision provisions (or upgrades) every named machine, going on
// after failures and returning them all.
func runProvision(ctx context.Context, opts provisionOptions, d *deps) error {
	insecure, err := parseInsecureRegistries(opts.Insecure)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range opts.Names {
		start := time.Now()
		m, err := d.store.Load(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if opts.SetInsecure {
			if err := d.store.SetInsecureRegistries(m, insecure); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		res, err := bootstrap.Provision(ctx, m, provision.Options{Machine: name, Upgrade: opts.Upgrade, Binary: pickAgent})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		took := time.Since(start).Round(100 * time.Millisecond)
		v := res.Health.Version
		switch {
		case !res.Changed:
			fmt.Fprintf(d.stdout, "%s: agent %s already in place (%s)\n", name, v, took)
		case res.Uploaded && res.OldVersion != "":
			fmt.Fprintf(d.stdout, "%s: agent upgraded from %s to %s (%s)\n", name, res.OldVersion, v, took)
		default:
			fmt.Fprintf(d.stdout, "%s: agent %s installed on %s (%s)\n", name, v, res.Guest.PrettyName, took)
		}
	}
	return errors.Join(errs...)
}
