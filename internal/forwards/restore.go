package forwards

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
)

// How long Restore waits for the agent of a machine that just booted, and
// how often it tries.
const (
	agentStartTimeout = 2 * time.Minute
	agentRetry        = 200 * time.Millisecond
)

// Restore brings the forwards of machine m, which just started, in line
// with its containers once its agent answers: QEMU lost every forward with
// its process, VirtualBox kept those of containers that may not have come
// back, and with renew (the VM booted: it was not running before) kept
// ones are made again (see Renew). Containers with --restart always or
// unless-stopped are running again by the time the agent answers. A
// machine without an agent, or whose driver needs no forwards, is left
// alone.
func Restore(ctx context.Context, m *machine.Machine, renew bool) (added, removed []drivers.Forward, err error) {
	pf, ok := m.Driver.(drivers.PortForwarder)
	if !ok {
		return nil, nil, nil
	}
	r := restorer{machine: m.Name, pf: pf, dial: dialHealthy(m), renew: renew, timeout: agentStartTimeout, retry: agentRetry}
	return r.restore(ctx)
}

// agentConn is a connection to an agent that answers.
type agentConn interface {
	Agent
	Close() error
}

// dialHealthy connects to the agent of m and checks that it answers.
func dialHealthy(m *machine.Machine) func(ctx context.Context) (agentConn, error) {
	return func(ctx context.Context) (agentConn, error) {
		ac, err := agentclient.WaitLoaded(ctx, m, agentRetry)
		if err != nil {
			return nil, err
		}
		if _, err := ac.Health(ctx); err != nil {
			ac.Close()
			return nil, err
		}
		return ac, nil
	}
}

// restorer is one Restore.
type restorer struct {
	machine string // names the machine in errors
	pf      drivers.PortForwarder
	dial    func(ctx context.Context) (agentConn, error)
	renew   bool
	timeout time.Duration // for the agent to answer and the forwards to be made
	retry   time.Duration // between tries to reach the agent
}

func (r restorer) restore(ctx context.Context) (added, removed []drivers.Forward, err error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	tick := time.NewTicker(r.retry)
	defer tick.Stop()
	var cause error // the last error that says why, not that time ran out
	for {
		ac, err := r.dial(ctx)
		if err == nil {
			added, removed, err = reconcile(ctx, ac, r.pf, r.renew)
			ac.Close()
			if err != nil {
				return added, removed, fmt.Errorf("restore the host forwards of machine %q: %w", r.machine, err)
			}
			return added, removed, nil
		}
		if errors.Is(err, agentclient.ErrNoAgent) {
			return nil, nil, nil
		}
		if cause == nil || ctx.Err() == nil {
			cause = err
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("restore the host forwards of machine %q: its agent did not answer within %v (see `berth inspect %s`): %w", r.machine, r.timeout, r.machine, cause)
		case <-tick.C:
		}
	}
}
