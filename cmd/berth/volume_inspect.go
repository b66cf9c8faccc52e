package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func volumeInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Show volumes as JSON",
		ArgsUsage: "VOLUME...",
		Description: `EXAMPLES:
   berth volume inspect data
   berth volume inspect -m dev --format '{{.Mountpoint}}' data`,
		Flags: []cli.Flag{machineFlag(),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "print with a Go `TEMPLATE` (.Name .Driver .Mountpoint .Labels .CreatedAt .Scope)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("volume inspect needs at least one VOLUME")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return inspectVolumes(ctx, api, c.Args().Slice(), c.String("format"), d.stdout)
			})
		},
	}
}

// inspectVolumes prints the volumes as a JSON array, or each through
// format, like docker volume inspect: the ones found, then an error for
// each missing one.
func inspectVolumes(ctx context.Context, api *client.Client, names []string, format string, out io.Writer) error {
	all := []json.RawMessage{}
	var errs []error
	for _, n := range names {
		res, err := api.VolumeInspect(ctx, n, client.VolumeInspectOptions{})
		if err != nil {
			errs = append(errs, fmt.Errorf("inspect volume %s: %w", n, err))
			continue
		}
		if format != "" {
			tmpl, _, err := parseFormat("volume inspect", format)
			if err != nil {
				return err
			}
			if err := execFormat(tmpl, out, res.Volume); err != nil {
				return err
			}
			fmt.Fprintln(out)
			continue
		}
		all = append(all, res.Raw)
	}
	if format == "" {
		b, err := json.MarshalIndent(all, "", "    ")
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
	}
	return errors.Join(errs...)
}
