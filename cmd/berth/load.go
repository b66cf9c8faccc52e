package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "Load images from a docker-save or OCI layout tarball onto a machine",
		Description: `The tarball (docker save, berth save, or an OCI image layout; gzip or not)
streams from this host to the machine.

EXAMPLES:
   berth load -i busybox.tar
   docker save busybox | berth load -m dev`,
		Flags: []cli.Flag{
			machineFlag(),
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read the tarball from `FILE` instead of standard input"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the loaded names"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usagef("load takes no arguments (use -i FILE or standard input)")
			}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				in := d.stdin
				if p := c.String("input"); p != "" {
					f, err := os.Open(p)
					if err != nil {
						return fmt.Errorf("open tarball: %w", err)
					}
					defer f.Close()
					in = f
				} else if f, ok := d.stdin.(*os.File); ok && isTerminal(f) {
					return usagef("load reads a tarball from standard input, which is a terminal: use -i FILE or a pipe")
				}
				return loadImages(ctx, cli, in, c.Bool("quiet"), d.stdout)
			})
		},
	}
}

// loadImages streams the tarball in to the agent and shows what it loaded.
func loadImages(ctx context.Context, cli *client.Client, in io.Reader, quiet bool, out io.Writer) error {
	resp, err := cli.ImageLoad(ctx, in, client.ImageLoadWithQuiet(quiet))
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer resp.Close()
	return showProgress(resp, out)
}
