package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/envup"
	"github.com/berthvm/berth/internal/version"
)

func lockCommand() *cli.Command {
	return &cli.Command{
		Name:  "lock",
		Usage: "Pin a team environment's guest OS, agent and images in berth.lock",
		Description: `Writes berth.lock beside berth.yaml: the berth-os version and its ISO's
SHA-256, the agent version, and every service's image resolved to its
digest for each architecture (amd64, arm64). Commit it; berth up --frozen
then uses exactly that and fails, naming what differs, when it cannot.
A registry at 10.0.2.2 (this computer as a machine sees it) is asked at
127.0.0.1.

EXAMPLES:
   berth lock
   berth lock -f envs/berth.yaml && git add envs/berth.lock`,
		Flags: []cli.Flag{envFileFlag()},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runLock(c.Context, c.String("file"), d)
		},
	}
}

func runLock(ctx context.Context, file string, d *deps) error {
	env, err := loadEnv(file)
	if err != nil {
		return err
	}
	iso, err := d.isoFor(ctx, env.Machines[env.Names()[0]])
	if err != nil {
		return err
	}
	l, err := envup.MakeLock(ctx, env, envServices(), envup.LockOptions{ISO: iso, AgentVersion: version.Version})
	if err != nil {
		return err
	}
	if err := env.WriteLock(l); err != nil {
		return err
	}
	fmt.Fprintf(d.stdout, "Wrote %s: berth-os %s, agent %s, %d images\n", env.LockPath(), l.BerthOS.Version, l.Agent.Version, len(l.Images))
	for _, im := range l.Images {
		for _, a := range []string{"amd64", "arm64"} {
			if _, ok := im.Platforms[a]; !ok {
				fmt.Fprintf(d.stderr, "WARNING: %s (service %s on %s) has no %s image\n", im.Image, im.Service, im.Machine, a)
			}
		}
	}
	return nil
}
