package main

import (
	"context"

	"github.com/berthvm/berth/internal/machine"
)

// createSteps are the steps of `berth create` after the VM runs: waiting
// for SSH (sshutil), provisioning the agent and its health check
// (provision). Their packages plug them in here; until then create stops
// once the VM runs.
var createSteps = machine.Steps{
	MakeKey: makeMachineKey,
	WaitSSH: waitMachineSSH,
}

// agentStatus fills the AGENT column of `berth ls` for a running machine,
// bounded by ctx (the --timeout of ls). The provision package plugs it in
// here, for example with the agent's version or "unhealthy". nil leaves
// the column empty.
var agentStatus func(ctx context.Context, m *machine.Machine) string
