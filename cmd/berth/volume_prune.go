package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/docker/go-units"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type volumePruneOptions struct {
	All     bool
	Force   bool
	Filters []string
}

func volumePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove the volumes no container uses",
		Description: `Removes the unused anonymous volumes (made by -v /PATH); with --all the
unused named volumes too. Asks first unless -f.

EXAMPLES:
   berth volume prune -f
   berth volume prune -m dev --all --filter label=tmp`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove unused named volumes too"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not ask for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "remove only the volumes that match (`label=KEY[=VALUE]`)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("volume prune takes no arguments")
			}
			opts := volumePruneOptions{All: c.Bool("all"), Force: c.Bool("force"), Filters: c.StringSlice("filter")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return pruneVolumes(ctx, api, opts, d.stdin, d.stdout)
			})
		},
	}
}

// pruneVolumes asks (unless opts.Force), prunes and prints what went, like
// docker volume prune.
func pruneVolumes(ctx context.Context, api *client.Client, opts volumePruneOptions, in io.Reader, out io.Writer) error {
	filters, err := parseFilterFlags(opts.Filters)
	if err != nil {
		return err
	}
	if !opts.Force {
		what := "anonymous local volumes"
		if opts.All {
			what = "local volumes"
		}
		fmt.Fprintf(out, "WARNING! This will remove all %s not used by at least one container.\nAre you sure you want to continue? [y/N] ", what)
		answer, _ := bufio.NewReader(in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
			return nil
		}
	}
	res, err := api.VolumePrune(ctx, client.VolumePruneOptions{All: opts.All, Filters: filters})
	if err != nil {
		return fmt.Errorf("prune volumes: %w", err)
	}
	if len(res.Report.VolumesDeleted) > 0 {
		fmt.Fprintln(out, "Deleted Volumes:")
		for _, v := range res.Report.VolumesDeleted {
			fmt.Fprintln(out, v)
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "Total reclaimed space: %s\n", units.HumanSize(float64(res.Report.SpaceReclaimed)))
	return nil
}
