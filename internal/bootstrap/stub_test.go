package bootstrap

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// stubDriver is a driver whose state and SSH endpoint a test sets; the
// other methods are not called.
type stubDriver struct {
	drivers.Driver
	state    drivers.State
	stateErr error
	ep       drivers.Endpoint
	epErr    error
}

func (d *stubDriver) State(context.Context) (drivers.State, error) { return d.state, d.stateErr }

func (d *stubDriver) SSHEndpoint(context.Context) (drivers.Endpoint, error) { return d.ep, d.epErr }

// stubMachine is a machine called dev with driver d and a folder that
// holds its SSH key.
func stubMachine(t *testing.T, d *stubDriver) *machine.Machine {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dev")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := MakeKey(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	return &machine.Machine{Config: machine.Config{Name: "dev"}, Dir: dir, Driver: d}
}
