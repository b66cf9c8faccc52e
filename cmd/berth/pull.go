package main

import (
	"context"
	"io"
	"strings"

	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:  "pull",
		Usage: "Pull an image from a registry onto a machine",
		Description: `The machine's agent pulls the image; credentials for its registry come
from this host's Docker config (docker login) and credential helpers. A
manifest list is resolved to the machine's platform (linux/amd64 or
linux/arm64) unless --platform names another one the machine runs (the
32-bit one of its CPU, like linux/386 on amd64, or one binfmt_misc hands to
an emulator on a generic host); a platform it cannot run is refused,
naming those it can. Registries reached over plain HTTP must be named
insecure at create.

EXAMPLES:
   berth pull busybox
   berth pull -m dev 10.0.2.2:5000/team/app:1.2
   berth pull --platform linux/386 busybox     # on an amd64 machine`,
		ArgsUsage: "IMAGE[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			machineFlag(),
			&cli.StringFlag{Name: "platform", Usage: "pull for `OS/ARCH[/VARIANT]` instead of the machine's"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the image name"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("pull takes one image name, got %d arguments", c.NArg())
			}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				out := d.stdout
				if c.Bool("quiet") {
					out = io.Discard
				}
				if err := pullImage(ctx, cli, pullOptions{Ref: c.Args().First(), Platform: c.String("platform")}, out); err != nil {
					return err
				}
				if c.Bool("quiet") {
					_, err := io.WriteString(d.stdout, c.Args().First()+"\n")
					return err
				}
				return nil
			})
		},
	}
}

type pullOptions struct {
	Ref      string
	Platform string
}

// pullImage has the agent pull opts.Ref, with this host's credentials for
// its registry, and shows the progress on out.
func pullImage(ctx context.Context, cli *client.Client, opts pullOptions, out io.Writer) error {
	auth, err := registryAuth(opts.Ref)
	if err != nil {
		return err
	}
	po := client.ImagePullOptions{RegistryAuth: auth}
	if opts.Platform != "" {
		p, err := parsePlatform(opts.Platform)
		if err != nil {
			return err
		}
		po.Platforms = append(po.Platforms, p)
	}
	resp, err := cli.ImagePull(ctx, opts.Ref, po)
	if err != nil {
		return err
	}
	defer resp.Close()
	return showProgress(resp, out)
}

// parsePlatform reads OS/ARCH[/VARIANT].
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, usagef("bad --platform %q: want OS/ARCH[/VARIANT], like linux/arm64", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}
