package main

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/machine"
)

// deps is what commands work with. Actions build it from the app; tests
// build their own.
type deps struct {
	store  *machine.Store
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// steps are the create steps after the VM runs (see hooks.go).
	steps machine.Steps
	// agentStatus fills ls's AGENT column (see hooks.go). nil: empty.
	agentStatus func(ctx context.Context, m *machine.Machine) string
	// osVersions remembers berthOS's answers; nil asks every time.
	osVersions *osVersions
}

// depsFrom builds the deps of a command from its context.
func depsFrom(c *cli.Context) (*deps, error) {
	root := c.String("storage-path")
	if root == "" {
		var err error
		if root, err = machine.DefaultRoot(); err != nil {
			return nil, err
		}
	}
	return &deps{
		store:       machine.NewStore(root),
		stdin:       c.App.Reader,
		stdout:      c.App.Writer,
		stderr:      c.App.ErrWriter,
		getenv:      os.Getenv,
		steps:       createSteps,
		agentStatus: agentStatus,
		osVersions:  &osVersions{},
	}, nil
}

// machineFlag is the -m flag of commands that work on one machine (run,
// images, ...). Read it with d.targetMachine(c.String("machine")).
//
//lint:ignore U1000 the commands that use it are being added
func machineFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "machine",
		Aliases: []string{"m"},
		Usage:   "the `NAME` of the machine to use (default: $BERTH_MACHINE, else the machine called \"default\")",
	}
}

// targetMachine is the machine a command works on: name when given (from
// -m or an argument), else $BERTH_MACHINE, else "default".
func (d *deps) targetMachine(name string) (string, error) {
	return d.store.ActiveName(name, d.getenv("BERTH_MACHINE"))
}

// loadTarget loads the machine a command works on: name, else the active
// machine (see targetMachine).
func (d *deps) loadTarget(name string) (*machine.Machine, error) {
	name, err := d.targetMachine(name)
	if err != nil {
		return nil, err
	}
	return d.store.Load(name)
}

// onOneMachine is the Action of a command whose one optional argument is
// a machine NAME: it builds the deps and calls run with the name.
func onOneMachine(run func(ctx context.Context, d *deps, name string) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		d, err := depsFrom(c)
		if err != nil {
			return err
		}
		name, err := oneMachineArg(c)
		if err != nil {
			return err
		}
		return run(c.Context, d, name)
	}
}

// oneMachineArg returns a command's single optional NAME argument.
func oneMachineArg(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "", nil
	case 1:
		return c.Args().First(), nil
	}
	return "", usagef("%s takes at most one machine name, got %d arguments", c.Command.Name, c.NArg())
}

// osVersions remembers the berth-os version of each architecture.
type osVersions struct {
	mu sync.Mutex
	m  map[string]string
}

// get returns the version of arch, from find the first time.
func (o *osVersions) get(arch string, find func() string) string {
	if o == nil {
		return find()
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if v, ok := o.m[arch]; ok {
		return v
	}
	if o.m == nil {
		o.m = map[string]string{}
	}
	o.m[arch] = find()
	return o.m[arch]
}

// berthOS is the berth-os version (v0.1.0) of arch that this berth brings:
// the one a new machine would boot, found without copying or downloading
// anything (isocache's DefaultVolumeID); "" when only a download would
// tell.
func (d *deps) berthOS(arch string) string {
	return d.osVersions.get(arch, func() string {
		id, err := (&isocache.Cache{Dir: d.store.CacheDir(), Arch: arch}).DefaultVolumeID()
		if err != nil {
			return ""
		}
		return isocache.VersionOf(id)
	})
}
