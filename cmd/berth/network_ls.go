package main

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type networkLsOptions struct {
	Quiet   bool
	Format  string
	Filters []string // KEY=VALUE: name, id, driver
}

func networkLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "List the networks of a machine",
		Description: `Columns: NETWORK ID NAME DRIVER SCOPE, like docker network ls. --format
takes a Go template with .ID .Name .Driver .Scope (prefix "table " for
columns).

EXAMPLES:
   berth network ls -m dev
   berth network ls -q
   berth network ls --format '{{.Name}} {{.Driver}}'`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only network IDs"},
			&cli.StringFlag{Name: "format", Usage: "print with a Go `TEMPLATE`"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "show only the networks that match (`KEY=VALUE`: name=, id=, driver=)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("network ls takes no arguments")
			}
			opts := networkLsOptions{Quiet: c.Bool("quiet"), Format: c.String("format"), Filters: c.StringSlice("filter")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return listNetworks(ctx, api, opts, d.stdout)
			})
		},
	}
}

// networkRow is one line of `berth network ls`, and what --format sees.
type networkRow struct {
	ID, Name, Driver, Scope string
}

const networksTable = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}"

// listNetworks prints the machine's networks like docker network ls.
func listNetworks(ctx context.Context, api *client.Client, opts networkLsOptions, out io.Writer) error {
	filters, err := parseFilterFlags(opts.Filters)
	if err != nil {
		return err
	}
	res, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: filters})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	short := func(id string) string {
		if len(id) > 12 {
			return id[:12]
		}
		return id
	}
	if opts.Quiet {
		for _, n := range res.Items {
			fmt.Fprintln(out, short(n.ID))
		}
		return nil
	}
	format := opts.Format
	if format == "" {
		format = networksTable
	}
	rows := make([]networkRow, 0, len(res.Items))
	for _, n := range res.Items {
		rows = append(rows, networkRow{ID: short(n.ID), Name: n.Name, Driver: n.Driver, Scope: n.Scope})
	}
	return printRows(out, "network ls", format, networkRow{ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER", Scope: "SCOPE"}, rows)
}
