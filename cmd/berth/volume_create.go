package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type volumeCreateOptions struct {
	Name   string
	Labels []string // KEY=VALUE
}

func volumeCreateCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a named volume",
		ArgsUsage: "[NAME]",
		Description: `Prints the volume's name. Without NAME the volume gets a random one.
Creating a volume that exists leaves it as it is.

EXAMPLES:
   berth volume create data
   berth volume create -m dev --label app=web cache`,
		Flags: []cli.Flag{machineFlag(),
			&cli.StringSliceFlag{Name: "label", Aliases: []string{"l"}, Usage: "set a label (`KEY=VALUE`)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("volume create takes at most one NAME, got %d arguments", c.NArg())
			}
			opts := volumeCreateOptions{Name: c.Args().First(), Labels: c.StringSlice("label")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return createVolume(ctx, api, opts, d.stdout)
			})
		},
	}
}

// createVolume creates the volume and prints its name.
func createVolume(ctx context.Context, api *client.Client, opts volumeCreateOptions, out io.Writer) error {
	labels := map[string]string{}
	for _, l := range opts.Labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return usagef("invalid --label %q: want KEY=VALUE", l)
		}
		labels[k] = v
	}
	res, err := api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: opts.Name, Labels: labels})
	if err != nil {
		return fmt.Errorf("create volume: %w", err)
	}
	_, err = fmt.Fprintln(out, res.Volume.Name)
	return err
}
