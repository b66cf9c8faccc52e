package agentclient

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// agentSocket is where the agent listens on the machine when Options
// name no other socket. The agent makes it once its stores are open,
// right before it serves.
const agentSocket = "/run/berth/agent.sock"

// socketWait bounds the wait on the machine for the agent's socket.
const socketWait = 60 * time.Second

// WaitLoaded is ForLoaded for a machine whose agent may still be starting
// (it just booted): one SSH connection, a wait on the machine itself for
// the agent's socket (polled by the machine's shell every 200 ms: on a
// one-CPU machine under emulation, faster polling slowed the agent's own
// start), then an attempt every retry until the agent answers
// or ctx ends. Polling from the host instead (an SSH connection and an
// agent process each time) took much of a one-CPU machine's time while
// its agent was starting. A machine without an agent fails at once with
// ErrNoAgent, as ForLoaded does.
func WaitLoaded(ctx context.Context, m *machine.Machine, retry time.Duration) (*Client, error) {
	sc, err := DialMachine(ctx, m)
	if err != nil {
		return nil, err
	}
	opts := Options{Machine: m.Name, Sudo: sc.Target().User != "root"}
	if !opts.Sudo {
		// Waited for by the machine's shell, which returns at once when
		// the agent serves already or is not installed. (Other users
		// cannot see root's socket.)
		_ = sc.Run(ctx, "sh -c "+sshutil.Quote(waitScript(berthapi.AgentPath, agentSocket)), sshutil.IO{})
	}
	for {
		c, err := New(ctx, sc, opts)
		if err == nil {
			c.ownsSSH = true
			return c, nil
		}
		// The agent is starting: try again. No agent, or the SSH
		// connection gone: the caller decides.
		var ae *Error
		if errors.Is(err, ErrNoAgent) || !errors.As(err, &ae) || ae.Stage == StageSSH || ctx.Err() != nil {
			sc.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			sc.Close()
			return nil, err
		case <-time.After(retry):
		}
	}
}

// waitScript waits until the agent's socket exists or the agent binary
// does not, for at most socketWait.
func waitScript(agent, socket string) string {
	ticks := int(socketWait / (200 * time.Millisecond))
	return `n=0; while [ -x ` + sshutil.Quote(agent) + ` ] && [ ! -S ` + sshutil.Quote(socket) + ` ] && [ $n -lt ` + strconv.Itoa(ticks) + ` ]; do
  usleep 200000 2>/dev/null || sleep 1; n=$((n + 1))
done`
}
