package main

import (
	"context"
	"os"
	"strings"

	"github.com/berthvm/berth/internal/imagebuild"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "Build an image from a Dockerfile on a machine",
		ArgsUsage: "DIR",
		Description: `The folder DIR (the build context) is tarred on this host, leaving out
what its .dockerignore excludes, and sent to the machine, whose agent
builds the Dockerfile with the classic builder (as DOCKER_BUILDKIT=0 docker
build does): steps that did not change come from the build cache. The
build's output is shown as it runs; the image ID is printed last.

EXAMPLES:
   berth build -m dev -t app .
   berth build -t app:v2 -f docker/Dockerfile.prod --build-arg VERSION=2 .
   berth build --target test --no-cache -t app-test ./service`,
		Flags: []cli.Flag{
			machineFlag(),
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "name the image `NAME[:TAG]` (repeatable)"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "the Dockerfile (`PATH`; default DIR/Dockerfile)"},
			&cli.StringSliceFlag{Name: "build-arg", Usage: "set the build argument `KEY=VALUE` (KEY alone: from this environment)"},
			&cli.StringFlag{Name: "target", Usage: "build up to the stage `NAME`"},
			&cli.BoolFlag{Name: "no-cache", Usage: "run every step again"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("build takes one argument, the context folder (such as .)")
			}
			dir := c.Args().First()
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return usagef("build: %s is not a folder: give the build context folder", dir)
			}
			args := map[string]*string{}
			for _, kv := range c.StringSlice("build-arg") {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					env, set := os.LookupEnv(k)
					if !set {
						continue
					}
					v = env
				}
				args[k] = &v
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				_, err := runBuild(ctx, api, imagebuild.Options{
					Dir: dir, Dockerfile: c.String("file"), Tags: c.StringSlice("tag"), BuildArgs: args,
					Target: c.String("target"), NoCache: c.Bool("no-cache"), Terminal: isTerminal(d.stdout),
				}, d)
				return err
			})
		},
	}
}

// runBuild runs a build on the agent api, showing its output.
func runBuild(ctx context.Context, api *client.Client, opts imagebuild.Options, d *deps) (string, error) {
	return imagebuild.Run(ctx, api, opts, d.stdout, d.stderr)
}
