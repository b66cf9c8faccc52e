package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func networkInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Show networks as JSON, with the running containers on them",
		ArgsUsage: "NETWORK...",
		Description: `EXAMPLES:
   berth network inspect bridge
   berth network inspect -m dev --format '{{range .Containers}}{{.Name}} {{.IPv4Address}} {{end}}' bridge`,
		Flags: []cli.Flag{machineFlag(),
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "print with a Go `TEMPLATE` (.Name .ID .Driver .IPAM.Config .Containers .Options)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("network inspect needs at least one NETWORK")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return inspectNetworks(ctx, api, c.Args().Slice(), c.String("format"), d.stdout)
			})
		},
	}
}

// inspectNetworks prints the networks as a JSON array, or each through
// format, like docker network inspect.
func inspectNetworks(ctx context.Context, api *client.Client, names []string, format string, out io.Writer) error {
	var all []json.RawMessage
	for _, n := range names {
		res, err := api.NetworkInspect(ctx, n, client.NetworkInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspect network %s: %w", n, err)
		}
		if format != "" {
			tmpl, _, err := parseFormat("network inspect", format)
			if err != nil {
				return err
			}
			if err := execFormat(tmpl, out, res.Network); err != nil {
				return err
			}
			fmt.Fprintln(out)
			continue
		}
		all = append(all, res.Raw)
	}
	if format != "" {
		return nil
	}
	b, err := json.MarshalIndent(all, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}
