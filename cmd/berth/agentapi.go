package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/version"
	"github.com/berthvm/berth/runtime/berthapi"
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
			opts := []client.Opt{client.WithHost(ep)}
			if sameBuildAgent(m) {
				opts = append(opts, client.WithAPIVersion(berthapi.DockerAPIVersion))
			}
			api, err := client.New(opts...)
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

// sameBuildAgent reports whether the host agent of m reports an agent of
// this build, whose Docker API version the client then uses without asking
// (a _ping first is a round trip to the machine on every command).
func sameBuildAgent(m *machine.Machine) bool {
	st, err := hostagent.ReadStatus(m.Dir)
	return err == nil && st.State == hostagent.StateReady && st.Agent == version.Version
}
