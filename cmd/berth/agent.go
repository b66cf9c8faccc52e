package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/sshutil"
)

// The agent's parts of the create sequence and of ls, plugged into the
// hooks of hooks.go.
func init() {
	createSteps.Provision = func(ctx context.Context, m *machine.Machine) error {
		_, err := provisionMachine(ctx, m, provision.Options{Machine: m.Name})
		return err
	}
	createSteps.AgentHealthy = func(ctx context.Context, m *machine.Machine) error {
		ac, err := agentclient.ForLoaded(ctx, m)
		if err != nil {
			return err
		}
		defer ac.Close()
		_, err = ac.Health(ctx)
		return err
	}
	agentStatus = agentclient.Status
	agentInspectHook = agentclient.Inspect
}

// agentInspectHook adds the agent's health to inspect's output (nil in
// tests of machines without SSH).
var agentInspectHook func(ctx context.Context, m *machine.Machine) *agentclient.Inspection

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
	return sshutil.WaitForSSH(ctx, target, sshutil.WaitOptions{Timeout: sshWaitTimeout, ConsoleLog: filepath.Join(m.Dir, "serial.log")})
}

// agentBinary picks the agent that provisioning installs; nil means the
// agents embedded in berth. Tests set it to an agent they built.
var agentBinary func(unameM string) (*agentbin.Binary, error)

// provisionMachine runs provision.Provision on a running machine.
func provisionMachine(ctx context.Context, m *machine.Machine, opts provision.Options) (*provision.Result, error) {
	opts.InsecureRegistries = m.InsecureRegistries
	if opts.Binary == nil {
		opts.Binary = agentBinary
	}
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
