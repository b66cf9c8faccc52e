package bootstrap

import (
	"context"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/provision/agentbin"
)

// Options tune the create steps.
type Options struct {
	// Binary picks the agent that provisioning installs for a machine's
	// `uname -m`; nil means the agents embedded in berth.
	Binary func(unameM string) (*agentbin.Binary, error)
}

// Steps are the steps of the create sequence that take a machine from a
// running VM to a ready agent: make its SSH key, wait for SSH, provision
// the agent and wait for its health check.
func Steps(opts Options) machine.Steps {
	return machine.Steps{
		MakeKey: MakeKey,
		WaitSSH: WaitSSH,
		Provision: func(ctx context.Context, m *machine.Machine) error {
			_, err := Provision(ctx, m, provision.Options{Machine: m.Name, Binary: opts.Binary})
			return err
		},
		AgentHealthy: AgentHealthy,
	}
}
