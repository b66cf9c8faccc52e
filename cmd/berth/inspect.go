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

Without NAME, inspects the active machine (see ` + "`berth active`" + `).

EXAMPLES:
   berth inspect dev
   berth inspect --format '{{.DriverName}}' dev
   berth inspect --format '{{json .Labels}}' dev`,
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
		Agent *agentclient.Inspection `json:",omitempty"` // health of a running machine's agent
		URL   string                  `json:",omitempty"` // the host agent's Docker endpoint
	}{Config: m.Config}
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
