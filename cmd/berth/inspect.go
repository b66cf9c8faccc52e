package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
)

type inspectOptions struct {
	Name   string // empty: the active machine
	Format string
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Show a machine's stored settings, and its agent's health, as JSON",
		ArgsUsage: "[NAME]",
		Description: `Prints the machine's config.json, indented. --format takes a Go template
over the same JSON (fields as in the output, e.g. .DriverName, .Driver.SSHPort);
the json function prints a value as JSON.

GuestOS is the berth-os the machine boots, read from its ISO (the machine
need not run): Version, VolumeID, Arch, ISO (the file), Available (the
version this berth brings) and Outdated (true when Available is newer:
` + "`berth upgrade`" + ` moves the machine to it). Generic hosts have none.

Without NAME, inspects the active machine (see ` + "`berth active`" + `).

EXAMPLES:
   berth inspect dev
   berth inspect --format '{{.DriverName}}' dev
   berth inspect --format '{{json .Labels}}' dev
   berth inspect --format '{{.GuestOS.Version}} {{.GuestOS.Outdated}}' dev`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "a Go template over the JSON (see above)"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			name, err := oneMachineArg(c)
			if err != nil {
				return err
			}
			return d.containerHint(c.Context, "inspect", []string{name}, runInspect(c.Context, inspectOptions{Name: name, Format: c.String("format")}, d))
		},
	}
}

func runInspect(ctx context.Context, opts inspectOptions, d *deps) error {
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	name := m.Name
	view := struct {
		machine.Config
		Agent   *agentclient.Inspection `json:",omitempty"` // health of a running machine's agent
		URL     string                  `json:",omitempty"` // the host agent's Docker endpoint
		GuestOS *guestOSView            `json:",omitempty"` // the berth-os it boots
	}{Config: m.Config, GuestOS: inspectGuestOS(d, m)}
	if st, err := hostagent.ReadStatus(m.Dir); err == nil {
		view.URL = st.Endpoint
	}
	if agentInspectHook != nil {
		view.Agent = agentInspectHook(ctx, m)
	}
	data, err := json.MarshalIndent(view, "", "    ")
	if err != nil {
		return fmt.Errorf("inspect machine %q: %w", name, err)
	}
	if opts.Format == "" {
		_, err := fmt.Fprintf(d.stdout, "%s\n", data)
		return err
	}
	tmpl, _, err := parseFormat("inspect", opts.Format)
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("inspect machine %q: %w", name, err)
	}
	if err := execFormat(tmpl, d.stdout, v); err != nil {
		return err
	}
	fmt.Fprintln(d.stdout)
	return nil
}

// guestOSView is the GuestOS part of inspect.
type guestOSView struct {
	Version   string `json:",omitempty"` // v0.1.0; empty for an ISO that is not berth-os
	VolumeID  string `json:",omitempty"`
	Arch      string `json:",omitempty"`
	ISO       string `json:",omitempty"` // the boot ISO in the machine folder
	Available string `json:",omitempty"` // the berth-os version this berth brings
	Outdated  bool   // Available is newer than Version
	Error     string `json:",omitempty"` // why the ISO could not be read
}

// inspectGuestOS reads the berth-os m boots; nil for machines that run
// their own OS.
func inspectGuestOS(d *deps, m *machine.Machine) *guestOSView {
	g, boots, err := m.GuestOS()
	if !boots {
		return nil
	}
	if err != nil {
		return &guestOSView{Error: err.Error()}
	}
	want := d.berthOS(g.Arch)
	return &guestOSView{Version: g.Version, VolumeID: g.VolumeID, Arch: g.Arch, ISO: g.ISO, Available: want, Outdated: g.Outdated(want)}
}
