package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/envup"
	"github.com/berthvm/berth/internal/teamenv"
	"github.com/berthvm/berth/internal/version"
)

type upOptions struct {
	File        string
	Machines    []string
	Wait        bool
	WaitTimeout time.Duration
	JSON        bool
	Frozen      bool
	Recreate    bool
}

func upCommand() *cli.Command {
	return &cli.Command{
		Name:      "up",
		Usage:     "Bring a team environment (berth.yaml) up: its machines and their compose services",
		ArgsUsage: "[MACHINE...]",
		Description: `Reads berth.yaml (in this folder or the nearest one above, or -f FILE) and
berth.override.yaml beside it, then: creates the machines that are missing
(in parallel), starts the stopped ones, applies changed settings (cpus,
memory, shares, insecure-registries: stop, change, start), and converges
each machine's compose services through its agent, a machine's services
starting once those of the machines it depends on are healthy. Machines
are called NAME-MACHINE (shop-app) and labelled with the environment.

Everything that can be checked is checked before anything changes: the
files, the host's CPUs and memory, host ports another environment or
program holds, settings only a new machine can take (driver, a smaller
disk: refused unless --recreate). One machine's failure does not stop the
others; the report at the end names each machine and service, and up
exits 1 when anything failed. Running up again resumes.

MACHINE names machines of the file (with the machines they depend on).
--frozen uses exactly what berth.lock pins (berth-os ISO, agent, image
digests) and fails naming what differs.

EXAMPLES:
   berth up --wait
   berth up -f envs/berth.yaml app
   berth up --json | jq .
   berth up --frozen --wait --wait-timeout 10m
   berth up --recreate        # apply a new driver by making the machine again`,
		Flags: []cli.Flag{
			envFileFlag(),
			&cli.BoolFlag{Name: "wait", Usage: "wait until every service runs (healthy, when it has a healthcheck)"},
			&cli.DurationFlag{Name: "wait-timeout", Usage: "give up waiting after `DURATION` (the whole up)"},
			&cli.BoolFlag{Name: "json", Usage: "print one JSON event per step (with its duration) and the report as JSON"},
			&cli.BoolFlag{Name: "frozen", Usage: "use exactly what berth.lock pins; fail naming what differs"},
			&cli.BoolFlag{Name: "recreate", Usage: "remove and create again machines whose new settings need it (driver, smaller disk)"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			return runUp(c.Context, upOptions{
				File: c.String("file"), Machines: c.Args().Slice(), Wait: c.Bool("wait"),
				WaitTimeout: c.Duration("wait-timeout"), JSON: c.Bool("json"),
				Frozen: c.Bool("frozen"), Recreate: c.Bool("recreate"),
			}, d)
		},
	}
}

func runUp(ctx context.Context, opts upOptions, d *deps) error {
	env, err := loadEnv(opts.File)
	if err != nil {
		return err
	}
	d, progress := envOutput(d, opts.JSON)
	start := time.Now()
	rep, err := envup.Up(ctx, env, d.envMachines(), envServices(), envup.UpOptions{
		Machines: opts.Machines, Wait: opts.Wait, WaitTimeout: opts.WaitTimeout,
		Frozen: opts.Frozen, Recreate: opts.Recreate, Progress: progress,
		Host: teamenv.ThisHost(), PortFree: teamenv.PortFree, Arch: envup.Arch(),
		ISOFor: d.isoFor, AgentVersion: version.Version,
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		json.NewEncoder(d.stdout).Encode(rep)
	} else {
		rep.Print(d.stdout)
		fmt.Fprintf(d.stdout, "Environment %s: %s in %.1fs\n", env.Name, outcome(rep.Err()), time.Since(start).Seconds())
	}
	return rep.Err()
}

func outcome(err error) string {
	if err != nil {
		return "FAILED (run berth up again once fixed)"
	}
	return "up"
}

// envOutput is how up and down show their steps: JSON events, a live
// table on a terminal, else one line per step. Machines come up in
// parallel, each saying what it does, so the returned deps' stdout and
// stderr and the progress write one at a time.
func envOutput(d *deps, asJSON bool) (*deps, func(envup.Event)) {
	var progress func(envup.Event)
	switch {
	case asJSON:
		progress = envup.JSON(d.stdout)
	case isTerminal(d.stderr):
		progress = envup.Table(d.stderr)
	default:
		progress = envup.Lines(d.stderr)
	}
	mu := &sync.Mutex{}
	out := *d
	out.stdout = serialWriter{mu, d.stdout}
	out.stderr = serialWriter{mu, d.stderr}
	return &out, func(e envup.Event) {
		mu.Lock()
		defer mu.Unlock()
		progress(e)
	}
}

// serialWriter writes to w holding mu.
type serialWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (s serialWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
