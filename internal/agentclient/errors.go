package agentclient

import (
	"errors"
	"fmt"
)

// Stage says which part of reaching the agent failed.
type Stage string

// The stages.
const (
	StageSSH     Stage = "ssh"     // the machine's SSH server
	StageAgent   Stage = "agent"   // the agent: missing, not running
	StageRequest Stage = "request" // the request itself
)

// The states of a machine's agent that callers branch on; the *Error of
// a failure to reach the agent wraps them.
var (
	// ErrNoAgent: the machine has no agent binary (never provisioned).
	ErrNoAgent = errors.New("no agent installed")
	// ErrAgentNotRunning: the agent is installed but does not answer on
	// its socket.
	ErrAgentNotRunning = errors.New("the agent is not running")
)

// Error is a failure to reach or use a machine's agent.
type Error struct {
	Machine string
	Stage   Stage
	Err     error
	// Hint is the command that likely fixes it, if any.
	Hint string
}

func (e *Error) Error() string {
	var msg string
	switch e.Stage {
	case StageSSH:
		msg = fmt.Sprintf("reach machine %q over ssh: %v", e.Machine, e.Err)
	case StageAgent:
		msg = fmt.Sprintf("agent on machine %q: %v", e.Machine, e.Err)
	default:
		msg = fmt.Sprintf("request to the agent on machine %q: %v", e.Machine, e.Err)
	}
	if e.Hint != "" {
		msg += " (try `" + e.Hint + "`)"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// asError finds an *Error inside err.
func asError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	return nil
}
