package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/go-units"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type psOptions struct {
	All    bool
	Quiet  bool
	Format string
}

func psCommand() *cli.Command {
	return &cli.Command{
		Name:  "ps",
		Usage: "List the containers of a machine",
		Description: `Lists running containers (all with -a) as docker ps does:
CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS, PORTS, NAMES.
--format takes a Go template with .ID .Image .Command .CreatedAt
.RunningFor .Status .State .Ports .Names .Mounts.

EXAMPLES:
   berth ps -m dev
   berth ps -a -q
   berth ps --format '{{.Names}} {{.Status}}'`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show stopped containers too"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only container IDs"},
			&cli.StringFlag{Name: "format", Usage: "print each container with a Go `TEMPLATE`"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usagef("ps takes no arguments")
			}
			opts := psOptions{All: c.Bool("all"), Quiet: c.Bool("quiet"), Format: c.String("format")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return listContainers(ctx, api, opts, d.stdout)
			})
		},
	}
}

// psRow is one container as ps shows it (the --format fields).
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, State, Ports, Names string
	// Mounts are the volume names and bind sources, each cut at 15
	// characters with "…" as docker ps does.
	Mounts string
}

func rowOf(s ctypes.Summary, now time.Time) psRow {
	cmd := s.Command
	if r := []rune(cmd); len(r) > 20 {
		cmd = string(r[:19]) + "…"
	}
	names := make([]string, len(s.Names))
	for i, n := range s.Names {
		names[i] = strings.TrimPrefix(n, "/")
	}
	created := time.Unix(s.Created, 0)
	return psRow{
		ID: s.ID[:12], Image: s.Image, Command: strconv.Quote(cmd),
		CreatedAt:  created.Format("2006-01-02 15:04:05 -0700 MST"),
		RunningFor: units.HumanDuration(now.Sub(created)) + " ago",
		Status:     s.Status, State: string(s.State), Names: strings.Join(names, ","),
		Ports: portsText(s.Ports), Mounts: mountsText(s.Mounts),
	}
}

// mountsText is the .Mounts of ps --format: "data,/srv/site".
func mountsText(mounts []ctypes.MountPoint) string {
	var out []string
	for _, m := range mounts {
		name := m.Name
		if name == "" {
			name = m.Source
		}
		if r := []rune(name); len(r) > 15 {
			name = string(r[:14]) + "…"
		}
		out = append(out, name)
	}
	return strings.Join(out, ",")
}

// portsText is the PORTS column: "127.0.0.1:8080->80/tcp, 53/udp".
func portsText(ports []ctypes.PortSummary) string {
	var out []string
	for _, p := range ports {
		if p.PublicPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			continue
		}
		ip := "0.0.0.0"
		if p.IP.IsValid() {
			ip = p.IP.String()
		}
		out = append(out, fmt.Sprintf("%s->%d/%s", net.JoinHostPort(ip, strconv.Itoa(int(p.PublicPort))), p.PrivatePort, p.Type))
	}
	return strings.Join(out, ", ")
}

func listContainers(ctx context.Context, api *client.Client, opts psOptions, out io.Writer) error {
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: opts.All})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	now := time.Now()
	if opts.Quiet {
		for _, s := range res.Items {
			fmt.Fprintln(out, s.ID[:12])
		}
		return nil
	}
	if opts.Format != "" {
		tmpl, err := template.New("format").Parse(opts.Format)
		if err != nil {
			return usagef("invalid --format: %v", err)
		}
		for _, s := range res.Items {
			if err := tmpl.Execute(out, rowOf(s, now)); err != nil {
				return fmt.Errorf("format container: %w", err)
			}
			fmt.Fprintln(out)
		}
		return nil
	}
	tw := tabwriter.NewWriter(out, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
	for _, s := range res.Items {
		r := rowOf(s, now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Image, r.Command, r.RunningFor, r.Status, r.Ports, r.Names)
	}
	return tw.Flush()
}
