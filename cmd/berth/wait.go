package main

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "Wait for containers to stop and print their exit codes",
		ArgsUsage: "CONTAINER...",
		Description: `Blocks until each CONTAINER stops, then prints its exit code.

EXAMPLES:
   berth wait -m dev job`,
		Flags: []cli.Flag{machineFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("wait needs at least one CONTAINER")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return waitContainers(ctx, api, c.Args().Slice(), d.stdout)
			})
		},
	}
}

func waitContainers(ctx context.Context, api *client.Client, names []string, out io.Writer) error {
	for _, n := range names {
		w := api.ContainerWait(ctx, n, client.ContainerWaitOptions{})
		select {
		case res := <-w.Result:
			fmt.Fprintln(out, res.StatusCode)
		case err := <-w.Error:
			return fmt.Errorf("wait for %s: %w", n, err)
		}
	}
	return nil
}
