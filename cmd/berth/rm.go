package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers/generic"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
)

type rmOptions struct {
	Names []string
	Force bool // delete the folder even when the driver cannot remove the VM
	Yes   bool // do not ask
	// KeepAgent leaves berth's agent on generic hosts.
	KeepAgent bool
}

func rmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "Remove machines: their VMs, disks and settings",
		ArgsUsage: "NAME...",
		Description: `Removes each named machine, asking first unless -y is given. It keeps
going when one fails and reports every failure. A machine whose settings are
broken is removed too. When the driver cannot remove a VM, the machine stays
so that rm can retry; -f deletes its folder anyway and, as in docker-machine,
does not ask. A generic machine's host
is kept: rm removes berth's agent from it (--keep-agent leaves that too).

EXAMPLES:
   berth rm dev
   berth rm -y web1 web2
   berth rm -f broken`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "delete the machine's folder even when its VM cannot be removed; implies -y"},
			&cli.BoolFlag{Name: "yes", Aliases: []string{"y"}, Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "keep-agent", Usage: "leave berth's agent installed on generic hosts"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "rm", c.Args().Slice(), runRm(c.Context, rmOptions{Names: c.Args().Slice(), Force: c.Bool("force"), Yes: c.Bool("yes"), KeepAgent: c.Bool("keep-agent")}, d))
		},
	}
}

func runRm(ctx context.Context, opts rmOptions, d *deps) error {
	if len(opts.Names) == 0 {
		return usagef("rm needs at least one machine name (see `berth ls`)")
	}
	if !opts.Yes && !opts.Force {
		fmt.Fprintf(d.stderr, "About to remove %s: their VMs and disks are deleted.\nAre you sure? (y/N): ", strings.Join(opts.Names, ", "))
		answer, err := bufio.NewReader(d.stdin).ReadString('\n')
		if err != nil && answer == "" {
			return usagef("no answer read; use -y to remove without asking")
		}
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			fmt.Fprintln(d.stderr, "Nothing removed.")
			return nil
		}
	}
	if opts.KeepAgent {
		ctx = generic.WithKeepAgent(ctx)
	}
	var errs []error
	for _, name := range opts.Names {
		if machine.ValidateName(name) == nil {
			if err := hostagent.Stop(ctx, d.store.Dir(name)); err != nil && !opts.Force {
				errs = append(errs, fmt.Errorf("remove machine %q: %w", name, err))
				continue
			}
		}
		if err := d.store.Remove(ctx, name, opts.Force); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(d.stdout, "Removed %s\n", name)
	}
	return errors.Join(errs...)
}
