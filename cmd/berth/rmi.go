package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func rmiCommand() *cli.Command {
	return &cli.Command{
		Name:  "rmi",
		Usage: "Remove images from a machine",
		Description: `An image is deleted with the last of its names; layers go when no other
image uses them. An image a container uses is refused unless -f (which
only untags it). Every name is tried; failures are reported together.

EXAMPLES:
   berth rmi busybox
   berth rmi -f -m dev 3f57d9401f8d`,
		ArgsUsage: "IMAGE...",
		Flags: []cli.Flag{
			machineFlag(),
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "remove an image with several names, or untag one a container uses"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("rmi needs at least one image")
			}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				return removeImages(ctx, cli, c.Args().Slice(), c.Bool("force"), d.stdout)
			})
		},
	}
}

// removeImages removes each image, keeps going after a failure and
// returns every failure.
func removeImages(ctx context.Context, cli *client.Client, names []string, force bool, out io.Writer) error {
	var errs []error
	for _, n := range names {
		res, err := cli.ImageRemove(ctx, n, client.ImageRemoveOptions{Force: force})
		if err != nil {
			errs = append(errs, fmt.Errorf("remove image %s: %w", n, err))
			continue
		}
		for _, it := range res.Items {
			if it.Untagged != "" {
				fmt.Fprintf(out, "Untagged: %s\n", it.Untagged)
			}
			if it.Deleted != "" {
				fmt.Fprintf(out, "Deleted: %s\n", it.Deleted)
			}
		}
	}
	return errors.Join(errs...)
}
