package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func volumeRmCommand() *cli.Command {
	return &cli.Command{
		Name:      "rm",
		Aliases:   []string{"remove"},
		Usage:     "Remove volumes and their data",
		ArgsUsage: "VOLUME...",
		Description: `A volume that a container (running or stopped) uses is refused: remove
the container first. Every name is tried; failures are reported together.

EXAMPLES:
   berth volume rm data
   berth volume rm -m dev cache data`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not fail on a volume that does not exist"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("volume rm needs at least one VOLUME")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return removeVolumes(ctx, api, c.Args().Slice(), c.Bool("force"), d.stdout)
			})
		},
	}
}

// removeVolumes removes each volume, printing its name, keeps going after
// a failure and returns every failure.
func removeVolumes(ctx context.Context, api *client.Client, names []string, force bool, out io.Writer) error {
	var errs []error
	for _, n := range names {
		if _, err := api.VolumeRemove(ctx, n, client.VolumeRemoveOptions{Force: force}); err != nil {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", n, err))
			continue
		}
		fmt.Fprintln(out, n)
	}
	return errors.Join(errs...)
}
