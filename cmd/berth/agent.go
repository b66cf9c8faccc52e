package main

import (
	"context"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
)

// The agent's parts of ls and inspect, plugged into their hooks.
func init() {
	agentStatus = agentclient.Status
	agentInspectHook = agentclient.Inspect
}

// agentInspectHook adds the agent's health to inspect's output (nil in
// tests of machines without SSH).
var agentInspectHook func(ctx context.Context, m *machine.Machine) *agentclient.Inspection
