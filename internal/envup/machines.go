package envup

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/teamenv"
)

// Machines makes and runs machines as `berth create`, `start`, `stop` and
// `rm` do: the CLI plugs its own steps in, so that a machine of an
// environment is made exactly like one made by hand.
type Machines struct {
	Store *machine.Store
	// Create runs the create sequence for m with the environment's labels.
	Create func(ctx context.Context, m *teamenv.Machine, labels map[string]string, progress func(step string)) error
	// Start boots a stopped machine, waits for SSH and its agent, and
	// starts its host agent.
	Start func(ctx context.Context, m *machine.Machine) error
	// Stop stops its host agent and the machine.
	Stop func(ctx context.Context, m *machine.Machine) error
	// Remove removes the machine fully, as `berth rm` does.
	Remove func(ctx context.Context, m *machine.Machine) error
	// Provision installs the agent again (new registries take effect).
	Provision func(ctx context.Context, m *machine.Machine) error
}

// load reads the stored machine called name; nil when there is none.
func (ms Machines) load(name string) (*machine.Machine, error) {
	if !ms.Store.Exists(name) {
		return nil, nil
	}
	return ms.Store.Load(name)
}

// running says whether m runs now: its host agent runs only while it
// does (no hypervisor query then), else its driver says.
func running(ctx context.Context, m *machine.Machine) bool {
	if hostagent.Running(m.Dir) {
		return true
	}
	st, err := m.Driver.State(ctx)
	return err == nil && st == drivers.StateRunning
}

// agentAPIVersion is the Docker Engine API version berth's agent serves
// (runtime/server.APIVersion): the host agent path asks for it without a
// negotiating ping, one round trip less per machine.
const agentAPIVersion = "1.47"

// api connects to m's agent: through its host agent when one runs (the
// kept SSH connection: fast), else over a new SSH connection.
func api(ctx context.Context, m *machine.Machine) (client.APIClient, func(), error) {
	if hostagent.Running(m.Dir) {
		c, err := client.New(client.WithHost(hostagent.Endpoint(m.Dir)), client.WithAPIVersion(agentAPIVersion))
		if err == nil {
			return c, func() { c.Close() }, nil
		}
	}
	ac, err := agentclient.ForLoaded(ctx, m)
	if err != nil {
		return nil, nil, fmt.Errorf("reach the agent of machine %q: %w", m.Name, err)
	}
	return ac, func() { ac.Close() }, nil
}
