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

// defaultSocket is where the agent listens on the machine when Options
// name no other socket. The agent makes it once its stores are open,
// right before it serves.
const defaultSocket = "/run/berth/agent.sock"

// socketWait bounds the wait on the machine for the agent's socket.
const socketWait = 60 * time.Second

// WaitLoaded is ForLoaded for a machine whose agent may still be starting
// (it just booted): one SSH connection, then WaitNew.
func WaitLoaded(ctx context.Context, m *machine.Machine, retry time.Duration) (*Client, error) {
	sc, err := DialMachine(ctx, m)
	if err != nil {
		return nil, err
	}
	c, err := WaitNew(ctx, sc, Options{Machine: m.Name, Sudo: sc.Target().User != "root"}, retry)
	if err != nil {
		sc.Close()
		return nil, err
	}
	c.ownsSSH = true
	return c, nil
}

// WaitNew is New for an agent that may still be starting: the machine's
// shell waits for the agent's socket (every 50 ms, returning at once when
// the agent serves already or is not installed), then New is tried every
// retry until the agent answers or ctx ends. Polling from the host
// instead (an SSH connection and an agent process each time) took much of
// a one-CPU machine's time while its agent was starting, and polling
// faster than 200 ms slowed that start too. With Sudo the socket is not
// visible to the SSH user and only New is retried. No agent installed, or
// the SSH connection gone, fails at once.
func WaitNew(ctx context.Context, ssh *sshutil.Client, opts Options, retry time.Duration) (*Client, error) {
	if !opts.Sudo {
		agent, socket := opts.AgentPath, opts.Socket
		if agent == "" {
			agent = berthapi.AgentPath
		}
		if socket == "" {
			socket = defaultSocket
		}
		_ = ssh.Run(ctx, "sh -c "+sshutil.Quote(waitScript(agent, socket)), sshutil.IO{})
	}
	for {
		c, err := New(ctx, ssh, opts)
		if err == nil {
			return c, nil
		}
		var ae *Error
		if errors.Is(err, ErrNoAgent) || !errors.As(err, &ae) || ae.Stage == StageSSH || ctx.Err() != nil {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(retry):
		}
	}
}

// socketPoll is how often waitScript looks for the socket: a look is two
// shell built-ins and a usleep, next to nothing for a machine that boots,
// and the agent is noticed 25 ms after its socket appears on average
// (100 ms at 200 ms).
const socketPoll = 50 * time.Millisecond

// waitScript waits until the agent's socket exists or the agent binary
// does not, for at most socketWait.
func waitScript(agent, socket string) string {
	ticks := int(socketWait / socketPoll)
	return `n=0; while [ -x ` + sshutil.Quote(agent) + ` ] && [ ! -S ` + sshutil.Quote(socket) + ` ] && [ $n -lt ` + strconv.Itoa(ticks) + ` ]; do
  usleep ` + strconv.Itoa(int(socketPoll/time.Microsecond)) + ` 2>/dev/null || sleep 1; n=$((n + 1))
done`
}
