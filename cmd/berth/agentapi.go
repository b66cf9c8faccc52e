package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/hostagent"
)

// agentAPI is a Docker API client of the named machine's agent: through
// its host agent (started when the machine runs without one), so that no
// SSH handshake is made per command, else over an SSH connection of its
// own. done closes it.
func (d *deps) agentAPI(ctx context.Context, name string) (api *client.Client, done func(), err error) {
	m, err := d.store.Load(name)
	if err != nil {
		return nil, nil, err
	}
	if d.steps.AgentHealthy != nil {
		ep, err := d.ensureHostAgent(ctx, m)
		switch {
		case err == nil:
			api, err := client.New(client.WithHost(ep))
			if err != nil {
				return nil, nil, fmt.Errorf("machine %q: docker client for %s: %w", name, ep, err)
			}
			return api, func() { api.Close() }, nil
		case !errors.Is(err, hostagent.ErrMachineNotRunning):
			fmt.Fprintf(d.stderr, "WARNING: %v; reaching the agent over SSH instead\n", err)
		}
		// A stopped machine: the SSH client's error says what to do.
	}
	ac, err := agentclient.ForLoaded(ctx, m)
	if err != nil {
		return nil, nil, err
	}
	return ac.Client, func() { ac.Close() }, nil
}
