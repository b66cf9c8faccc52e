package bootstrap

import (
	"context"
	"fmt"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/sshutil"
)

// sshWaitTimeout bounds the wait for a machine's SSH server before
// provisioning (a VM that just booted under emulation is slow).
const sshWaitTimeout = 3 * time.Minute

// dialRunning connects to a running machine over SSH, waiting for its SSH
// server a while.
func dialRunning(ctx context.Context, m *machine.Machine) (*sshutil.Client, error) {
	st, err := m.Driver.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("state of machine %q: %w", m.Name, err)
	}
	if st != drivers.StateRunning {
		return nil, fmt.Errorf("machine %q is %s: start it first (`berth start %s`)", m.Name, st, m.Name)
	}
	target, err := agentclient.SSHTarget(ctx, m)
	if err != nil {
		return nil, err
	}
	return sshutil.WaitForSSH(ctx, target, sshutil.WaitOptions{Timeout: sshWaitTimeout, ConsoleLog: consoleLog(m)})
}

// Provision runs provision.Provision on the running machine m, with m's
// insecure registries (they replace opts.InsecureRegistries).
func Provision(ctx context.Context, m *machine.Machine, opts provision.Options) (*provision.Result, error) {
	opts.InsecureRegistries = m.InsecureRegistries
	sc, err := dialRunning(ctx, m)
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	res, err := provision.Provision(ctx, sc, opts)
	if err != nil {
		return res, fmt.Errorf("provision machine %q: %w", m.Name, err)
	}
	return res, nil
}

// AgentHealthy returns once m's agent answers its health check. It fits
// machine.Steps.AgentHealthy.
func AgentHealthy(ctx context.Context, m *machine.Machine) error {
	ac, err := agentclient.ForLoaded(ctx, m)
	if err != nil {
		return err
	}
	defer ac.Close()
	_, err = ac.Health(ctx)
	return err
}
