package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func imagesCommand() *cli.Command {
	return &cli.Command{
		Name:  "images",
		Usage: "List the images of a machine",
		Description: `Columns: REPOSITORY TAG IMAGE ID CREATED SIZE, like docker images.

EXAMPLES:
   berth images
   berth images -m dev -q
   berth images --format '{{.Repository}}:{{.Tag}} {{.Size}}' busybox`,
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			machineFlag(),
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only image IDs"},
			&cli.StringFlag{Name: "format", Usage: "print with a Go `TEMPLATE` (fields: .Repository .Tag .ID .Digest .CreatedSince .CreatedAt .Size; prefix \"table \" for columns)"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "print full image IDs"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return usagef("images takes at most one REPOSITORY[:TAG], got %d arguments", c.NArg())
			}
			opts := imagesOptions{Quiet: c.Bool("quiet"), Format: c.String("format"), NoTrunc: c.Bool("no-trunc"), Reference: c.Args().First()}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				return listImages(ctx, cli, opts, d.stdout)
			})
		},
	}
}

type imagesOptions struct {
	Quiet     bool
	Format    string
	NoTrunc   bool
	Reference string
}

// imageRow is one line of `berth images`, and what --format templates see.
type imageRow struct {
	Repository   string
	Tag          string
	ID           string
	Digest       string
	CreatedSince string
	CreatedAt    string
	Size         string
}

// imageRows turns the agent's list into docker's rows: one per name, or
// one <none> row for an image without any.
func imageRows(items []image.Summary, noTrunc bool, now time.Time) []imageRow {
	var rows []imageRow
	for _, it := range items {
		id := it.ID
		if !noTrunc {
			id = shortImageID(id)
		}
		created := time.Unix(it.Created, 0)
		base := imageRow{
			ID: id, Repository: "<none>", Tag: "<none>", Digest: "<none>",
			CreatedSince: units.HumanDuration(now.Sub(created)) + " ago",
			CreatedAt:    created.Format("2006-01-02 15:04:05 -0700 MST"),
			Size:         units.HumanSizeWithPrecision(float64(it.Size), 3),
		}
		if len(it.RepoTags) == 0 {
			rows = append(rows, base)
			continue
		}
		for _, t := range it.RepoTags {
			r := base
			i := strings.LastIndex(t, ":")
			if i > strings.LastIndex(t, "/") {
				r.Repository, r.Tag = t[:i], t[i+1:]
			} else {
				r.Repository = t
			}
			for _, d := range it.RepoDigests {
				if strings.HasPrefix(d, r.Repository+"@") {
					r.Digest = d[len(r.Repository)+1:]
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

func shortImageID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

const imagesTable = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"

// listImages prints the machine's images like docker images.
func listImages(ctx context.Context, cli *client.Client, opts imagesOptions, out io.Writer) error {
	lo := client.ImageListOptions{}
	if opts.Reference != "" {
		lo.Filters = make(client.Filters).Add("reference", opts.Reference)
	}
	res, err := cli.ImageList(ctx, lo)
	if err != nil {
		return fmt.Errorf("list images: %w", err)
	}
	rows := imageRows(res.Items, opts.NoTrunc, time.Now())
	if opts.Quiet {
		seen := map[string]bool{}
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				fmt.Fprintln(out, r.ID)
			}
		}
		return nil
	}
	format := opts.Format
	if format == "" {
		format = imagesTable
	}
	header := imageRow{Repository: "REPOSITORY", Tag: "TAG", ID: "IMAGE ID", Digest: "DIGEST", CreatedSince: "CREATED", CreatedAt: "CREATED AT", Size: "SIZE"}
	return printRows(out, "images", format, header, rows)
}
