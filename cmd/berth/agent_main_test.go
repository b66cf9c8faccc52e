package main

import (
	"context"
	"testing"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
)

// The steps and the ls column the agent's packages wire in (agent.go),
// kept for the tests that reach real machines; the other tests run
// against the fake driver, whose machines have no SSH server, so they
// start without them.
var (
	wiredSteps       machine.Steps
	wiredAgentStatus func(ctx context.Context, m *machine.Machine) string
	wiredInspect     func(ctx context.Context, m *machine.Machine) *agentclient.Inspection
)

// init runs after agent.go's init: test files come after the package's
// own files. It also runs in the child processes tests start as berth.
func init() {
	wiredSteps, wiredAgentStatus, wiredInspect = createSteps, agentStatus, agentInspectHook
	createSteps.WaitSSH, createSteps.Provision, createSteps.AgentHealthy, agentStatus, agentInspectHook = nil, nil, nil, nil, nil
}

func TestAgentHooksWired(t *testing.T) {
	if wiredSteps.WaitSSH == nil || wiredSteps.Provision == nil || wiredSteps.AgentHealthy == nil || wiredAgentStatus == nil || wiredInspect == nil {
		t.Error("agent.go did not wire the create steps, the ls column and inspect")
	}
	if createSteps.Provision != nil || agentStatus != nil {
		t.Error("the fake-driver tests run with the agent hooks wired")
	}
}
