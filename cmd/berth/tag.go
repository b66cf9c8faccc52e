package main

import (
	"context"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:  "tag",
		Usage: "Give an image of a machine another name",
		Description: `EXAMPLES:
   berth tag busybox mybox:v1
   berth tag -m dev app:1 10.0.2.2:5000/team/app:1`,
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Flags:     []cli.Flag{machineFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return usagef("tag takes a source and a target image, got %d arguments", c.NArg())
			}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				return tagImage(ctx, cli, c.Args().Get(0), c.Args().Get(1))
			})
		},
	}
}

func tagImage(ctx context.Context, cli *client.Client, source, target string) error {
	_, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: source, Target: target})
	return err
}
