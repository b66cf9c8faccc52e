package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"
)

type urlOptions struct {
	Name string // empty: the active machine
}

func urlCommand() *cli.Command {
	return &cli.Command{
		Name:      "url",
		Usage:     "Print the Docker API endpoint of a machine on this computer",
		ArgsUsage: "[NAME]",
		Description: `Prints the machine's Docker Engine API endpoint: its host agent's socket
(unix://...; npipe://... on Windows), the value ` + "`berth env`" + ` gives
DOCKER_HOST. Starts the host agent when the machine runs without one.

EXAMPLES:
   berth url dev
   docker -H "$(berth url dev)" ps
   curl --unix-socket "$(berth url dev | sed 's,unix://,,')" http://berth/version`,
		Action: onOneMachine(func(ctx context.Context, d *deps, name string) error {
			return runURL(ctx, urlOptions{Name: name}, d)
		}),
	}
}

func runURL(ctx context.Context, opts urlOptions, d *deps) error {
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	ep, err := d.ensureHostAgent(ctx, m)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(d.stdout, ep)
	return err
}
