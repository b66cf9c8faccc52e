package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
)

func hostAgentCommand() *cli.Command {
	return &cli.Command{
		Name:      "hostagent",
		Hidden:    true,
		Usage:     "Serve a machine's Docker API on this computer (started by berth itself)",
		ArgsUsage: "NAME",
		Description: `The host agent of a running machine: it serves the machine's Docker
Engine API on a socket in the machine folder (` + "`berth url NAME`" + ` prints it),
relays each connection to the machine's agent over one kept SSH
connection, and keeps the host's port forwards in line with the
containers. create and start start it, stop, kill and rm stop it, and any
berth command that finds a running machine without one starts it again.
Its log is hostagent.log in the machine folder.

EXAMPLES:
   berth hostagent dev`,
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() != 1 {
				return usagef("hostagent takes one machine name")
			}
			return runHostAgent(c.Context, c.Args().First(), d)
		},
	}
}

func runHostAgent(ctx context.Context, name string, d *deps) error {
	log := slog.New(slog.NewTextHandler(d.stderr, nil))
	return hostagent.Run(ctx, d.store, name, log)
}

// hostAgentArgv is the command line that runs the host agent of machine
// name: this berth program with the same store.
func (d *deps) hostAgentArgv(name string) []string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe, "--storage-path", d.store.Root, "hostagent", name}
}

// startHostAgent starts the host agent of m, which just started or was
// created, when berth's agent steps are wired (tests of the fake driver
// have none). A host agent that cannot start is a warning: the machine
// runs, and the next command that needs it tries again.
func (d *deps) startHostAgent(ctx context.Context, m *machine.Machine) {
	if d.steps.AgentHealthy == nil {
		return
	}
	if _, _, err := hostagent.Ensure(ctx, m, d.hostAgentArgv(m.Name)); err != nil {
		fmt.Fprintf(d.stderr, "WARNING: %v (berth env %s tries again)\n", err, m.Name)
		return
	}
	// The agent just answered: the host agent reaches it at once, and
	// what ls shows next is its status.
	hostagent.WaitReady(ctx, m.Dir, hostAgentReadyWait)
}

// stopHostAgent stops the host agent of m, before m stops or goes. A
// host agent that will not stop is a warning: the machine still stops,
// and its host agent ends by itself once it finds the machine stopped.
func (d *deps) stopHostAgent(ctx context.Context, m *machine.Machine) {
	if err := hostagent.Stop(ctx, m.Dir); err != nil {
		fmt.Fprintf(d.stderr, "WARNING: machine %s: %v\n", m.Name, err)
	}
}

// hostAgentReadyWait bounds the wait of create and start for their new
// host agent to reach the machine's agent.
const hostAgentReadyWait = 10 * time.Second

// ensureHostAgent starts m's host agent when m runs without one, saying
// so on stderr, and returns its endpoint.
func (d *deps) ensureHostAgent(ctx context.Context, m *machine.Machine) (string, error) {
	ep, started, err := hostagent.Ensure(ctx, m, d.hostAgentArgv(m.Name))
	if err != nil {
		return "", err
	}
	if started {
		fmt.Fprintf(d.stderr, "Started the host agent of machine %s (%s)\n", m.Name, ep)
	}
	return ep, nil
}
