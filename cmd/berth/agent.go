package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/runtime/berthapi"
)

// The agent's parts of ls and inspect, plugged into their hooks.
func init() {
	agentStatus = agentColumn
	agentInspectHook = inspectAgent
}

// agentInspectHook adds the agent's health to inspect's output (nil in
// tests of machines without SSH).
var agentInspectHook func(ctx context.Context, m *machine.Machine) *agentInspect

// agentColumn is ls's AGENT column: the agent's version, or in a few words
// why there is none.
func agentColumn(ctx context.Context, m *machine.Machine) string {
	ac, err := agentclient.ForLoaded(ctx, m)
	if err != nil {
		return agentProblem(err)
	}
	defer ac.Close()
	v, err := ac.AgentVersion(ctx)
	if err != nil {
		return agentProblem(err)
	}
	return v.Version
}

// agentProblem says briefly what keeps the agent from answering.
func agentProblem(err error) string {
	var ae *agentclient.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case !errors.As(err, &ae):
		return "error"
	case ae.Stage == agentclient.StageSSH:
		return "ssh error"
	case strings.Contains(ae.Err.Error(), "no agent installed"):
		return "not installed"
	case strings.Contains(ae.Err.Error(), "not running"):
		return "not running"
	}
	return "error"
}

// agentInspect is what inspect shows of a running machine's agent.
type agentInspect struct {
	Health *berthapi.Health `json:",omitempty"`
	Error  string           `json:",omitempty"`
}

// inspectAgent asks a running machine's agent for its health; nil for a
// machine that is not running.
func inspectAgent(ctx context.Context, m *machine.Machine) *agentInspect {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if st, err := m.Driver.State(ctx); err != nil || st != drivers.StateRunning {
		return nil
	}
	ac, err := agentclient.ForLoaded(ctx, m)
	if err != nil {
		return &agentInspect{Error: err.Error()}
	}
	defer ac.Close()
	h, err := ac.Health(ctx)
	if err != nil {
		return &agentInspect{Error: err.Error()}
	}
	return &agentInspect{Health: &h}
}
