package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
	"golang.org/x/crypto/ssh"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/sshutil"
)

type regenerateHostKeyOptions struct {
	Names []string // empty: the active machine
}

func regenerateHostKeyCommand() *cli.Command {
	return &cli.Command{
		Name:      "regenerate-host-key",
		Usage:     "Forget a machine's pinned SSH host key and pin the one it offers now",
		ArgsUsage: "[NAME...]",
		Description: `berth pins the SSH host key a machine offers the first time and refuses
a different one later, because a changed key can mean that someone else
answers in the machine's place. When the key changed for a reason you
know (you re-created the VM, or replaced its data disk), run this: it
forgets the pinned key and, when the machine runs, connects and pins the
key it offers now, printing its fingerprint. A stopped machine's new key
is pinned at the next connection.

EXAMPLES:
   berth regenerate-host-key dev`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runRegenerateHostKey(c.Context, regenerateHostKeyOptions{Names: machineArgs(c)}, d)
		},
	}
}

func runRegenerateHostKey(ctx context.Context, opts regenerateHostKeyOptions, d *deps) error {
	return d.eachMachine(ctx, opts.Names, false, func(ctx context.Context, m *machine.Machine) error {
		hk := sshutil.MachineHostKeys(m.Name, m.Dir)
		if err := hk.Forget(); err != nil {
			return err
		}
		client, err := bootstrap.DialSSH(ctx, m)
		if err != nil {
			fmt.Fprintf(d.stdout, "%s: forgot the pinned host key; the key the machine offers at the next connection will be pinned (%v)\n", m.Name, err)
			return nil
		}
		client.Close()
		keys, err := hk.Pinned()
		if err != nil || len(keys) == 0 {
			return fmt.Errorf("regenerate host key of machine %q: nothing pinned after connecting: %w", m.Name, err)
		}
		_, err = fmt.Fprintf(d.stdout, "%s: pinned host key %s %s\n", m.Name, keys[0].Type(), ssh.FingerprintSHA256(keys[0]))
		return err
	})
}
