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
		Name:      "rmi",
		Usage:     "remove images from a machine",
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
