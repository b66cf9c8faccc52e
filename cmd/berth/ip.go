package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
)

type ipOptions struct {
	Names []string // empty: the active machine
}

func ipCommand() *cli.Command {
	return &cli.Command{
		Name:      "ip",
		Usage:     "Print the address at which the host reaches machines",
		ArgsUsage: "[NAME...]",
		Description: `Prints one address per machine: the address berth uses to reach the
machine's SSH server.

QEMU machines use QEMU's user-mode network: the VM has no address of its
own on the host, and berth reaches it through ports forwarded on
127.0.0.1, so ip prints 127.0.0.1 for them (` + "`berth inspect NAME`" + ` shows
the SSH port). Generic machines print the host they were created with.

EXAMPLES:
   berth ip dev
   curl http://$(berth ip dev):8080/`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runIP(c.Context, ipOptions{Names: machineArgs(c)}, d)
		},
	}
}

func runIP(ctx context.Context, opts ipOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, false, func(ctx context.Context, m *machine.Machine) error {
		ep, err := m.Driver.SSHEndpoint(ctx)
		if err != nil {
			return fmt.Errorf("address of machine %q: %w", m.Name, err)
		}
		_, err = fmt.Fprintln(d.stdout, ep.Host)
		return err
	})
}
