package agentclient

import (
	"context"
	"fmt"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/sshutil"
)

// SSHTarget says how to reach m over SSH: its driver's endpoint, the
// machine's own key (or the key the endpoint names, for generic hosts)
// and the host key pinned in its folder.
func SSHTarget(ctx context.Context, m *machine.Machine) (sshutil.Target, error) {
	ep, err := m.Driver.SSHEndpoint(ctx)
	if err != nil {
		return sshutil.Target{}, fmt.Errorf("ssh endpoint of machine %q: %w", m.Name, err)
	}
	return sshutil.ForMachine(m.Name, m.Dir, ep)
}

// DialMachine opens an SSH connection to m.
func DialMachine(ctx context.Context, m *machine.Machine) (*sshutil.Client, error) {
	t, err := SSHTarget(ctx, m)
	if err != nil {
		return nil, &Error{Machine: m.Name, Stage: StageSSH, Err: err}
	}
	c, err := sshutil.Dial(ctx, t)
	if err != nil {
		return nil, &Error{Machine: m.Name, Stage: StageSSH, Err: err}
	}
	return c, nil
}

// ForMachine connects to the agent of the named machine in store: one SSH
// connection that the returned client owns and closes. This is what every
// command that talks to a machine's agent calls.
func ForMachine(ctx context.Context, store *machine.Store, name string) (*Client, error) {
	m, err := store.Load(name)
	if err != nil {
		return nil, err
	}
	return ForLoaded(ctx, m)
}

// ForLoaded is ForMachine for a machine already loaded.
func ForLoaded(ctx context.Context, m *machine.Machine) (*Client, error) {
	sc, err := DialMachine(ctx, m)
	if err != nil {
		return nil, err
	}
	c, err := New(ctx, sc, Options{Machine: m.Name, Sudo: sc.Target().User != "root"})
	if err != nil {
		sc.Close()
		return nil, err
	}
	c.ownsSSH = true
	return c, nil
}
