package main

import (
	"context"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/provision/agentbin"
)

// createSteps are the steps of `berth create` after the VM runs: waiting
// for SSH, provisioning the agent and its health check (bootstrap).
var createSteps = bootstrap.Steps(bootstrap.Options{Binary: pickAgent})

// agentBinary picks the agent that provisioning installs; nil means the
// agents embedded in berth. Tests set it to an agent they built.
var agentBinary func(unameM string) (*agentbin.Binary, error)

// pickAgent is the agent that provisioning installs: agentBinary's when a
// test set it, else the one embedded in berth.
func pickAgent(unameM string) (*agentbin.Binary, error) {
	if agentBinary != nil {
		return agentBinary(unameM)
	}
	return agentbin.ForMachine(unameM)
}

// agentStatus fills the AGENT column of `berth ls` for a running machine,
// bounded by ctx (the --timeout of ls). The provision package plugs it in
// here, for example with the agent's version or "unhealthy". nil leaves
// the column empty.
var agentStatus func(ctx context.Context, m *machine.Machine) string
