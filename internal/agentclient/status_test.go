package agentclient

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
	"github.com/berthvm/berth/internal/machine"
)

func TestProblem(t *testing.T) {
	agentErr := func(err error) error { return &Error{Machine: "dev", Stage: StageAgent, Err: err} }
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), "timeout"},
		{"deadline inside an agent error", &Error{Machine: "dev", Stage: StageRequest, Err: context.DeadlineExceeded}, "timeout"},
		{"not an agent error", errors.New("load machine"), "error"},
		{"ssh", &Error{Machine: "dev", Stage: StageSSH, Err: errors.New("connection refused")}, "ssh error"},
		{"no agent", agentErr(fmt.Errorf("%w at /usr/local/bin/berth-agent: sh: not found", ErrNoAgent)), "not installed"},
		{"not running", agentErr(fmt.Errorf("%w: connect to the agent: refused", ErrAgentNotRunning)), "not running"},
		{"wrapped again", fmt.Errorf("status: %w", agentErr(ErrAgentNotRunning)), "not running"},
		{"words alone are not the state", agentErr(errors.New("unit not running")), "error"},
		{"request", &Error{Machine: "dev", Stage: StageRequest, Err: errors.New("GET /health: 500")}, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Problem(tt.err); got != tt.want {
				t.Errorf("Problem(%v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestDialStdioError(t *testing.T) {
	c := &Client{opts: Options{Machine: "dev", AgentPath: "/usr/local/bin/berth-agent"}}
	cause := errors.New("EOF")
	tests := []struct {
		stderr   string
		wantIs   error // nil: neither sentinel
		wantMsg  string
		wantHint string
	}{
		{"berth-agent: connect to the agent: dial unix /run/berth/agent.sock: connect: no such file or directory", ErrAgentNotRunning,
			`agent on machine "dev": the agent is not running: berth-agent: connect to the agent: dial unix /run/berth/agent.sock: connect: no such file or directory (try ` + "`berth provision dev`)", "berth provision dev"},
		{"sh: /usr/local/bin/berth-agent: not found", ErrNoAgent,
			`agent on machine "dev": no agent installed at /usr/local/bin/berth-agent: sh: /usr/local/bin/berth-agent: not found (try ` + "`berth provision dev`)", "berth provision dev"},
		{"bash: /usr/local/bin/berth-agent: No such file or directory", ErrNoAgent,
			`agent on machine "dev": no agent installed at /usr/local/bin/berth-agent: bash: /usr/local/bin/berth-agent: No such file or directory (try ` + "`berth provision dev`)", "berth provision dev"},
		{"sudo: a password is required", nil,
			`agent on machine "dev": run the agent with sudo: sudo: a password is required`, ""},
		{"panic: boom", nil,
			`agent on machine "dev": EOF (dial-stdio said: panic: boom)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.stderr, func(t *testing.T) {
			err := c.dialStdioError(cause, tt.stderr)
			if err == nil {
				t.Fatal("dialStdioError = nil, want an error")
			}
			if got := err.Error(); got != tt.wantMsg {
				t.Errorf("message = %q\nwant      %q", got, tt.wantMsg)
			}
			if err.Stage != StageAgent || err.Hint != tt.wantHint {
				t.Errorf("stage, hint = %s, %q; want agent, %q", err.Stage, err.Hint, tt.wantHint)
			}
			for _, s := range []error{ErrNoAgent, ErrAgentNotRunning} {
				if got, want := errors.Is(err, s), s == tt.wantIs; got != want {
					t.Errorf("errors.Is(err, %q) = %v, want %v", s, got, want)
				}
			}
		})
	}
	if err := c.dialStdioError(cause, ""); err != nil {
		t.Errorf("dialStdioError with no stderr = %v, want nil", err)
	}
}

// stoppedMachine is a machine of the fake driver whose VM is not running.
func stoppedMachine(t *testing.T) *machine.Machine {
	dir := t.TempDir()
	return &machine.Machine{
		Config: machine.Config{Name: "dev", DriverName: fakedriver.Name},
		Dir:    dir,
		Driver: fakedriver.New(drivers.Base{MachineName: "dev", Dir: dir}),
	}
}

func TestStatusOfUnreachableMachine(t *testing.T) {
	if got, want := Status(context.Background(), stoppedMachine(t)), "ssh error"; got != want {
		t.Errorf("Status = %q, want %q", got, want)
	}
}

func TestInspectOfStoppedMachine(t *testing.T) {
	if got := Inspect(context.Background(), stoppedMachine(t)); got != nil {
		t.Errorf("Inspect = %+v, want nil for a machine that is not running", got)
	}
}
