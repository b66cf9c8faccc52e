package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type volumeLsOptions struct {
	Quiet   bool
	Format  string
	Filters []string // KEY=VALUE: dangling, name, label, driver
}

func volumeLsCommand() *cli.Command {
	return &cli.Command{
		Name:    "ls",
		Aliases: []string{"list"},
		Usage:   "List the volumes of a machine",
		Description: `Columns: DRIVER VOLUME NAME, like docker volume ls. --format takes a Go
template with .Name .Driver .Scope .Mountpoint .Labels .CreatedAt
(prefix "table " for columns).

EXAMPLES:
   berth volume ls -m dev
   berth volume ls -q
   berth volume ls --filter dangling=true
   berth volume ls --format '{{.Name}} {{.Mountpoint}}'`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only volume names"},
			&cli.StringFlag{Name: "format", Usage: "print with a Go `TEMPLATE`"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "show only the volumes that match (`KEY=VALUE`: dangling=true, name=, label=)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("volume ls takes no arguments")
			}
			opts := volumeLsOptions{Quiet: c.Bool("quiet"), Format: c.String("format"), Filters: c.StringSlice("filter")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return listVolumes(ctx, api, opts, d.stdout)
			})
		},
	}
}

// volumeRow is one line of `berth volume ls`, and what --format sees.
type volumeRow struct {
	Name, Driver, Scope, Mountpoint, Labels, CreatedAt string
}

const volumesTable = "table {{.Driver}}\t{{.Name}}"

// parseFilterFlags reads --filter KEY=VALUE values into the API's filters.
func parseFilterFlags(flags []string) (client.Filters, error) {
	f := client.Filters{}
	for _, s := range flags {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usagef("invalid --filter %q: want KEY=VALUE", s)
		}
		f.Add(k, v)
	}
	return f, nil
}

// listVolumes prints the machine's volumes like docker volume ls.
func listVolumes(ctx context.Context, api *client.Client, opts volumeLsOptions, out io.Writer) error {
	filters, err := parseFilterFlags(opts.Filters)
	if err != nil {
		return err
	}
	res, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: filters})
	if err != nil {
		return fmt.Errorf("list volumes: %w", err)
	}
	if opts.Quiet {
		for _, v := range res.Items {
			fmt.Fprintln(out, v.Name)
		}
		return nil
	}
	format := opts.Format
	if format == "" {
		format = volumesTable
	}
	rows := make([]volumeRow, 0, len(res.Items))
	for _, v := range res.Items {
		var labels []string
		for k, val := range v.Labels {
			labels = append(labels, k+"="+val)
		}
		rows = append(rows, volumeRow{Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, Labels: strings.Join(labels, ","), CreatedAt: v.CreatedAt})
	}
	header := volumeRow{Name: "VOLUME NAME", Driver: "DRIVER", Scope: "SCOPE", Mountpoint: "MOUNTPOINT", Labels: "LABELS", CreatedAt: "CREATED"}
	return printRows(out, "volume ls", format, header, rows)
}
