package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/machine"
)

type createOptions struct {
	Name        string
	Driver      string
	Labels      []string // k=v
	Insecure    []string // --insecure-registry
	Shares      []string // --share HOSTDIR[:GUESTDIR]
	NoShare     bool     // --no-share
	KeepOnError bool
	Quiet       bool   // print nothing but errors
	JSON        bool   // the steps as JSON events on stdout
	Arch        string // --arch: the guest architecture; "" is the host's
	Flags       drivers.FlagValues
}

func createCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Usage: "the `DRIVER` that makes the VM: " + knownDrivers(), EnvVars: []string{"BERTH_DRIVER"}},
		&cli.StringSliceFlag{Name: "label", Usage: "a `KEY=VALUE` label to find the machine by (ls --filter label=KEY=VALUE); repeatable"},
		&cli.StringSliceFlag{Name: "insecure-registry", Usage: insecureRegistryFlagUsage},
		&cli.StringSliceFlag{Name: "share", Usage: "share the host folder `HOSTDIR[:GUESTDIR]` into the machine, at GUESTDIR (default: the same path); repeatable (default: your home folder)"},
		&cli.BoolFlag{Name: "no-share", Usage: "share no host folder, not even your home folder"},
		&cli.BoolFlag{Name: "keep-on-error", Usage: "keep a machine whose start or provisioning failed, to look into it (default: remove it)"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print no steps and no progress, only errors"},
		&cli.BoolFlag{Name: "json", Usage: "print each step's beginning and end (with its duration) as a JSON event a line on stdout"},
		&cli.StringFlag{Name: "arch", Usage: "the machine's CPU `ARCH`itecture, amd64 or arm64 (default: this computer's; the other one is emulated, and slow)", EnvVars: []string{"BERTH_ARCH"}},
	}
	return &cli.Command{
		Name:      "create",
		Usage:     "Create a machine: a VM with the berth guest OS and agent",
		ArgsUsage: "NAME",
		Description: `Creates the VM, starts it, waits for SSH and installs the agent. If any step
fails or you press Ctrl-C, everything made so far is removed again.

Shared folders: the qemu and virtualbox drivers share your home folder
into the machine at the same path (C:\Users\x becomes /c/Users/x), so that
` + "`berth run -v $PWD:/src ...`" + ` works from anywhere below it: a file written on
either side is seen at once on the other. --share names other folders
instead (a relative HOSTDIR is taken from the current folder); --no-share
shares none. Shares are kept in the machine's config (berth inspect).

Each step is printed when it begins and, with its duration, when it ends;
--json prints them as JSON events instead, one a line:
{"machine":"dev","event":"end","step":"waiting for SSH","at_ms":5120,"took_ms":2310}
and {"machine":"dev","event":"ready","at_ms":...} at the end.

Driver flags can also be set with the environment variable shown next to
each flag.

EXAMPLES:
   berth create -d qemu dev
   berth create -d qemu --label team=web --label env=test web1
   berth create -d qemu --insecure-registry 10.0.2.2:5000 dev   # a plain-HTTP registry on this computer
   berth create -d qemu --share ~/src --share /data:/mnt/data dev
   berth create -d virtualbox --no-share dev
   berth create -d qemu --arch arm64 arm   # an arm64 machine (emulated on an x86_64 computer)
   QEMU_MEMORY=2048 berth create -d qemu big
   berth create -d qemu --json dev | jq -c 'select(.event == "end")'`,
		Flags: append(flags, driverFlags()...),
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("create takes one machine name, got %d arguments (see `berth create --help`)", c.NArg())
			}
			return runCreate(c.Context, createOptions{
				Name:        c.Args().First(),
				Driver:      c.String("driver"),
				Labels:      c.StringSlice("label"),
				Insecure:    c.StringSlice("insecure-registry"),
				Shares:      c.StringSlice("share"),
				NoShare:     c.Bool("no-share"),
				KeepOnError: c.Bool("keep-on-error"),
				Quiet:       c.Bool("quiet"),
				JSON:        c.Bool("json"),
				Arch:        c.String("arch"),
				Flags:       flagValues{c},
			}, d)
		},
	}
}

func runCreate(ctx context.Context, opts createOptions, d *deps) error {
	if err := machine.ValidateName(opts.Name); err != nil {
		return err
	}
	if opts.Driver == "" {
		return usagef("choose a driver with -d DRIVER (this berth has: %s)", knownDrivers())
	}
	reg, err := drivers.Lookup(opts.Driver)
	if err != nil {
		return &usageError{err}
	}
	labels, err := parseLabels(opts.Labels)
	if err != nil {
		return err
	}
	insecure, err := parseInsecureRegistries(opts.Insecure)
	if err != nil {
		return err
	}
	newDriver := func(base drivers.Base) (drivers.Driver, error) {
		drv := reg.New(base)
		if dp, ok := drv.(downloadProgresser); ok && !opts.Quiet && !opts.JSON && isTerminal(d.stderr) {
			dp.SetDownloadProgress((&downloadBar{w: d.stderr, label: "downloading the berth-os ISO"}).update)
		}
		if reg.Configure != nil && opts.Flags != nil {
			if err := reg.Configure(drv, opts.Flags); err != nil {
				return nil, &usageError{fmt.Errorf("%s driver flags: %w", opts.Driver, err)}
			}
		}
		if err := setArch(drv, opts.Driver, opts.Arch); err != nil {
			return nil, err
		}
		return drv, nil
	}
	// Check the flags before anything touches the disk.
	drv, err := newDriver(d.store.Base(opts.Name))
	if err != nil {
		return err
	}
	shares, note, err := createShares(opts, drv)
	if err != nil {
		return err
	}
	if note != "" && !opts.Quiet {
		fmt.Fprintf(d.stderr, "(%s) %s\n", opts.Name, note)
	}
	if note := emulationNote(drv); note != "" && !opts.Quiet {
		fmt.Fprintf(d.stderr, "(%s) %s\n", opts.Name, note)
	}
	report := newStepReport(nil, false, opts.Name)
	switch {
	case opts.JSON:
		report = newStepReport(d.stdout, true, opts.Name)
	case !opts.Quiet:
		report = newStepReport(d.stderr, false, opts.Name)
	}
	steps := report.hook(d.steps)
	m, err := d.store.Create(ctx, machine.CreateSpec{
		Name:               opts.Name,
		Labels:             labels,
		NewDriver:          newDriver,
		InsecureRegistries: insecure,
		Shares:             shares,
		KeepOnError:        opts.KeepOnError,
	}, steps)
	if err != nil {
		return err
	}
	steps.Step(ctx, "starting the host agent", func(ctx context.Context) error { d.startHostAgent(ctx, m); return nil })
	report.ready()
	if !opts.Quiet && !opts.JSON {
		fmt.Fprintf(d.stdout, "Machine %s is ready in %.1fs (driver %s). See `berth ls`.\n", m.Name, report.since().Seconds(), m.DriverName)
	}
	return nil
}

// downloadProgresser is a driver that can report the progress of an ISO
// download during Create.
type downloadProgresser interface {
	SetDownloadProgress(func(isocache.Progress))
}

// parseLabels reads KEY=VALUE labels, naming every bad one.
func parseLabels(in []string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	var bad []string
	for _, l := range in {
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			bad = append(bad, fmt.Sprintf("%q", l))
			continue
		}
		out[k] = v
	}
	if len(bad) > 0 {
		return nil, usagef("bad --label %s: want KEY=VALUE", strings.Join(bad, ", "))
	}
	return out, nil
}

// knownDrivers lists the drivers of this build for messages.
func knownDrivers() string {
	if n := drivers.Names(); len(n) > 0 {
		return strings.Join(n, ", ")
	}
	return "none yet"
}
