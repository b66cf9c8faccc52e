package hostagent

import (
	"context"
	"errors"
	"fmt"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// ErrMachineNotRunning marks a machine that has no host agent because it
// is not running.
var ErrMachineNotRunning = errors.New("not running")

// Ensure makes sure the running machine m has a host agent, starting one
// with argv (see Start) when it has none, and returns its endpoint. A
// machine that is not running fails with an error wrapping
// ErrMachineNotRunning that names `berth start`.
func Ensure(ctx context.Context, m *machine.Machine, argv []string) (endpoint string, started bool, err error) {
	if Running(m.Dir) {
		return Endpoint(m.Dir), false, nil
	}
	st, err := m.Driver.State(ctx)
	if err != nil {
		return "", false, fmt.Errorf("state of machine %q: %w", m.Name, err)
	}
	if st != drivers.StateRunning {
		return "", false, fmt.Errorf("machine %q is %s, %w: start it with `berth start %s`", m.Name, st, ErrMachineNotRunning, m.Name)
	}
	started, err = Start(ctx, m.Dir, argv)
	if err != nil {
		return "", false, fmt.Errorf("machine %q: %w", m.Name, err)
	}
	return Endpoint(m.Dir), started, nil
}
