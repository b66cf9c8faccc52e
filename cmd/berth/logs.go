package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type logsOptions struct {
	Container  string
	Follow     bool
	Tail       string
	Since      string
	Timestamps bool
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "Show a container's output",
		ArgsUsage: "CONTAINER",
		Description: `Prints what the container wrote, stdout and stderr each to its own
stream. The machine keeps the log across agent restarts.

EXAMPLES:
   berth logs -m dev web
   berth logs -f --tail 10 web
   berth logs --since 5m --timestamps web`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "keep printing new output"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "show the last `N` lines"},
			&cli.StringFlag{Name: "since", Usage: "show output since a `TIME` (RFC 3339) or duration (10m)"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show when each line was written"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("logs needs one CONTAINER")
			}
			opts := logsOptions{Container: c.Args().First(), Follow: c.Bool("follow"), Tail: c.String("tail"), Since: c.String("since"), Timestamps: c.Bool("timestamps")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return containerLogs(ctx, api, opts, d.stdout, d.stderr)
			})
		},
	}
}

// sinceParam turns a duration ("10m") or RFC 3339 time into the API's
// seconds.nanoseconds.
func sinceParam(s string, now time.Time) (string, error) {
	if s == "" {
		return "", nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		t := now.Add(-d)
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s, nil
	}
	return "", usagef("invalid --since %q: a duration like 10m or a time like 2026-01-02T15:04:05Z", s)
}

func containerLogs(ctx context.Context, api *client.Client, opts logsOptions, stdout, stderr io.Writer) error {
	since, err := sinceParam(opts.Since, time.Now())
	if err != nil {
		return err
	}
	info, err := api.ContainerInspect(ctx, opts.Container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	rc, err := api.ContainerLogs(ctx, opts.Container, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Tail: opts.Tail, Since: since, Timestamps: opts.Timestamps,
	})
	if err != nil {
		return err
	}
	defer rc.Close()
	if info.Container.Config != nil && info.Container.Config.Tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs: %w", err)
	}
	return nil
}
