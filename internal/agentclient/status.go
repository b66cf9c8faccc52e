package agentclient

import (
	"context"
	"errors"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/runtime/berthapi"
)

// Status is what `berth ls` shows in its AGENT column for running machine
// m: the agent's version, or in a few words why there is none. ctx bounds
// the wait.
func Status(ctx context.Context, m *machine.Machine) string {
	ac, err := ForLoaded(ctx, m)
	if err != nil {
		return Problem(err)
	}
	defer ac.Close()
	v, err := ac.AgentVersion(ctx)
	if err != nil {
		return Problem(err)
	}
	return v.Version
}

// Problem says briefly what keeps the agent from answering.
func Problem(err error) string {
	var ae *Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case !errors.As(err, &ae):
		return "error"
	case ae.Stage == StageSSH:
		return "ssh error"
	case errors.Is(ae, ErrNoAgent):
		return "not installed"
	case errors.Is(ae, ErrAgentNotRunning):
		return "not running"
	}
	return "error"
}

// Inspection is what `berth inspect` shows of a running machine's agent:
// its health, or why it did not answer.
type Inspection struct {
	Health *berthapi.Health `json:",omitempty"`
	Error  string           `json:",omitempty"`
}

// inspectTimeout bounds Inspect.
const inspectTimeout = 30 * time.Second

// Inspect asks the agent of machine m for its health; nil when m is not
// running.
func Inspect(ctx context.Context, m *machine.Machine) *Inspection {
	ctx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	if st, err := m.Driver.State(ctx); err != nil || st != drivers.StateRunning {
		return nil
	}
	ac, err := ForLoaded(ctx, m)
	if err != nil {
		return &Inspection{Error: err.Error()}
	}
	defer ac.Close()
	h, err := ac.Health(ctx)
	if err != nil {
		return &Inspection{Error: err.Error()}
	}
	return &Inspection{Health: &h}
}
