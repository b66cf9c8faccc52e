package machine

import (
	"context"
	"errors"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
)

// noLifecycle is a driver without the Lifecycle role.
type noLifecycle struct{ drivers.Driver }

// hostDriver is a driver without the Lifecycle role that says why.
type hostDriver struct{ drivers.Driver }

func (hostDriver) WhyNoLifecycle() string { return "berth does not power hosts on or off" }

func TestMachineLifecycle(t *testing.T) {
	tests := []struct {
		driver drivers.Driver
		want   string // "": the driver's Lifecycle
	}{
		{fakedriver.New(drivers.Base{}), ""},
		{noLifecycle{}, `stop machine "dev": the plain driver cannot stop machines: ` + drivers.ErrNotSupported.Error()},
		{hostDriver{}, `stop machine "dev": berth does not power hosts on or off: ` + drivers.ErrNotSupported.Error()},
	}
	for _, tt := range tests {
		m := &Machine{Config: Config{Name: "dev", DriverName: "plain"}, Driver: tt.driver}
		lc, err := m.Lifecycle("stop")
		if tt.want == "" {
			if err != nil || lc != tt.driver.(drivers.Lifecycle) {
				t.Errorf("%T: Lifecycle = %v, %v; want the driver", tt.driver, lc, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want || !errors.Is(err, drivers.ErrNotSupported) || lc != nil {
			t.Errorf("%T: Lifecycle = %v, %v; want error %q", tt.driver, lc, err, tt.want)
		}
	}
}

// stoppedMachine creates the fake machine dev in a new store and stops it.
func stoppedMachine(t *testing.T) (*Store, *Machine) {
	t.Helper()
	s := NewStore(t.TempDir())
	if _, err := s.Create(t.Context(), fakeSpec("dev", nil), Steps{}); err != nil {
		t.Fatal(err)
	}
	m, err := s.Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Driver.(*fakedriver.Driver).Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s, m
}

// TestStoreStart: Start starts the VM, saves what the driver changed and
// then waits for SSH.
func TestStoreStart(t *testing.T) {
	s, m := stoppedMachine(t)
	m.Driver.(*fakedriver.Driver).SSHPort = 2345 // as a driver that picked a new port
	var waited bool
	wait := func(ctx context.Context, m *Machine) error {
		if st, _ := m.Driver.State(ctx); st != drivers.StateRunning {
			t.Errorf("WaitSSH ran on a machine that is %s", st)
		}
		if got, err := s.Load(m.Name); err != nil || got.Driver.(*fakedriver.Driver).SSHPort != 2345 {
			t.Errorf("WaitSSH ran before the driver's settings were saved (%v)", err)
		}
		waited = true
		return nil
	}
	if err := s.Start(t.Context(), m, Steps{WaitSSH: wait}); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if !waited {
		t.Error("Start did not wait for SSH")
	}
	if st, err := m.Driver.State(t.Context()); st != drivers.StateRunning || err != nil {
		t.Errorf("state after Start = %v, %v; want Running", st, err)
	}
}

func TestStoreStartFails(t *testing.T) {
	noSSH := errors.New("no ssh")
	tests := []struct {
		name  string
		fail  string // the fake driver's step that fails
		steps Steps
		want  string
	}{
		{"driver", fakedriver.FailStart, Steps{}, "fake start failure"},
		{"ssh", "", Steps{WaitSSH: func(context.Context, *Machine) error { return noSSH }}, `start machine "dev": no ssh`},
	}
	for _, tt := range tests {
		s, m := stoppedMachine(t)
		m.Driver.(*fakedriver.Driver).Fail = tt.fail
		if err := s.Start(t.Context(), m, tt.steps); err == nil || err.Error() != tt.want {
			t.Errorf("%s: Start = %v, want %q", tt.name, err, tt.want)
		}
	}
	m := &Machine{Config: Config{Name: "dev", DriverName: "plain"}, Driver: noLifecycle{}}
	if err := NewStore(t.TempDir()).Start(t.Context(), m, Steps{}); !errors.Is(err, drivers.ErrNotSupported) {
		t.Errorf("Start without the Lifecycle role = %v, want ErrNotSupported", err)
	}
}
