package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/sshutil"
)

// consoleLog is the machine's serial console log, which a timed-out SSH
// wait quotes.
func consoleLog(m *machine.Machine) string { return filepath.Join(m.Dir, "serial.log") }

// MakeKey makes a new ed25519 key in the machine folder dir and returns
// its public half, which the driver puts into the machine. It fits
// machine.Steps.MakeKey.
func MakeKey(_ context.Context, dir string) (string, error) {
	kp, err := sshutil.GenerateKey(filepath.Join(dir, sshutil.KeyFile), "berth-"+filepath.Base(dir))
	if err != nil {
		return "", err
	}
	return kp.PublicKey, nil
}

// SSHTarget is where and how to reach m's SSH server. A machine that is
// not running gets an error that says so and what to do.
func SSHTarget(ctx context.Context, m *machine.Machine) (sshutil.Target, error) {
	ep, err := m.Driver.SSHEndpoint(ctx)
	if err != nil {
		return sshutil.Target{}, notRunning(ctx, m, fmt.Errorf("ssh to machine %q: %w", m.Name, err))
	}
	return sshutil.ForMachine(m.Name, m.Dir, ep)
}

// DialSSH connects to m's SSH server.
func DialSSH(ctx context.Context, m *machine.Machine) (*sshutil.Client, error) {
	t, err := SSHTarget(ctx, m)
	if err != nil {
		return nil, err
	}
	c, err := sshutil.Dial(ctx, t)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, notRunning(ctx, m, err)
		}
		return nil, err
	}
	return c, nil
}

// WaitSSH waits until m's SSH server answers (pinning its host key at
// first contact); its timeout error quotes the machine's console log. It
// fits machine.Steps.WaitSSH.
func WaitSSH(ctx context.Context, m *machine.Machine) error {
	t, err := SSHTarget(ctx, m)
	if err != nil {
		return err
	}
	c, err := sshutil.WaitForSSH(ctx, t, sshutil.WaitOptions{ConsoleLog: consoleLog(m)})
	if err != nil {
		return err
	}
	return c.Close()
}

// notRunning adds the machine's state to err when the machine is not
// running, with the command that starts it.
func notRunning(ctx context.Context, m *machine.Machine, err error) error {
	st, serr := m.Driver.State(ctx)
	if serr != nil || st == drivers.StateRunning {
		return err
	}
	return fmt.Errorf("machine %q is %s (start it with `berth start %s`): %w", m.Name, st, m.Name, err)
}
