package main

import (
	"context"
	"os"
	"testing"

	"github.com/berthvm/berth/machine"
)

// The steps and the ls column the agent's packages wire in (agent.go),
// kept for the tests that reach real machines; the other tests run
// against the fake driver, whose machines have no SSH server, so they
// start without them.
var (
	wiredSteps       machine.Steps
	wiredAgentStatus func(ctx context.Context, m *machine.Machine) string
	wiredInspect     func(ctx context.Context, m *machine.Machine) *agentInspect
)

func TestMain(m *testing.M) {
	wiredSteps, wiredAgentStatus, wiredInspect = createSteps, agentStatus, agentInspectHook
	createSteps.Provision, createSteps.AgentHealthy, agentStatus, agentInspectHook = nil, nil, nil, nil
	os.Exit(m.Run())
}
