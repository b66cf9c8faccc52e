package machine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/fakedriver"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

// isoDriver is a VM driver that boots boot.iso in its folder and swaps
// it as drivers.BootISO says, recording what it is asked. It fails to
// start an ISO named in failBoot, and fails restores when failRestore.
type isoDriver struct {
	dir         string
	running     bool
	kept        bool
	failBoot    map[string]bool
	failRestore bool
	calls       []string
}

func (d *isoDriver) DriverName() string                   { return "iso" }
func (d *isoDriver) Capabilities() drivers.Capabilities   { return drivers.Capabilities{Lifecycle: true} }
func (d *isoDriver) PreCreateCheck(context.Context) error { return nil }
func (d *isoDriver) Create(context.Context) error         { return nil }
func (d *isoDriver) Remove(context.Context) error         { return nil }
func (d *isoDriver) SSHEndpoint(context.Context) (drivers.Endpoint, error) {
	return drivers.Endpoint{}, nil
}
func (d *isoDriver) State(context.Context) (drivers.State, error) {
	if d.running {
		return drivers.StateRunning, nil
	}
	return drivers.StateStopped, nil
}
func (d *isoDriver) booted() string {
	id, _ := isocache.VolumeID(d.BootISOPath())
	return id
}
func (d *isoDriver) Start(context.Context) error {
	d.calls = append(d.calls, "start "+d.booted())
	if d.failBoot[d.booted()] {
		return fmt.Errorf("%s does not boot", d.booted())
	}
	d.running = true
	return nil
}
func (d *isoDriver) Stop(context.Context) error {
	d.calls = append(d.calls, "stop")
	d.running = false
	return nil
}
func (d *isoDriver) Kill(context.Context) error {
	d.calls = append(d.calls, "kill")
	d.running = false
	return nil
}
func (d *isoDriver) BootISOPath() string { return filepath.Join(d.dir, "boot.iso") }
func (d *isoDriver) ReplaceBootISO(_ context.Context, iso string) error {
	d.calls = append(d.calls, "replace")
	if d.running {
		return errors.New("running")
	}
	b, err := os.ReadFile(iso)
	if err != nil {
		return err
	}
	if !d.kept {
		if err := os.Rename(d.BootISOPath(), filepath.Join(d.dir, "boot.old.iso")); err != nil {
			return err
		}
		d.kept = true
	}
	return os.WriteFile(d.BootISOPath(), b, 0o644)
}
func (d *isoDriver) RestoreBootISO(context.Context) error {
	d.calls = append(d.calls, "restore")
	if d.failRestore {
		return errors.New("the disk is read-only")
	}
	if !d.kept {
		return nil
	}
	d.kept = false
	return os.Rename(filepath.Join(d.dir, "boot.old.iso"), d.BootISOPath())
}
func (d *isoDriver) CommitBootISO(context.Context) error {
	d.calls = append(d.calls, "commit")
	d.kept = false
	return os.Remove(filepath.Join(d.dir, "boot.old.iso"))
}

// isoMachine is machine dev booting berth-os-v0.0.9, running or not, and
// the path of a berth-os-v0.1.0 ISO to move it to.
func isoMachine(t *testing.T, running bool) (*Store, *Machine, *isoDriver, string) {
	t.Helper()
	s := NewStore(t.TempDir())
	dir := s.Dir("dev")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := &isoDriver{dir: dir, running: running, failBoot: map[string]bool{}}
	testenv.WriteFakeISO(t, d.BootISOPath(), "berth-os-v0.0.9")
	m := &Machine{Config: Config{Name: "dev", DriverName: "iso"}, Dir: dir, Driver: d}
	return s, m, d, testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "new.iso"), "berth-os-v0.1.0")
}

// swapSteps records the steps and fails WaitSSH on the ISOs in failSSH.
func swapSteps(d *isoDriver, failSSH map[string]bool, progress *[]string) Steps {
	return Steps{
		WaitSSH: func(ctx context.Context, m *Machine) error {
			d.calls = append(d.calls, "ssh "+d.booted())
			if failSSH[d.booted()] {
				return errors.New("no SSH after 3m0s")
			}
			return nil
		},
		Provision: func(ctx context.Context, m *Machine) error {
			d.calls = append(d.calls, "provision")
			return ctx.Err()
		},
		AgentHealthy: func(ctx context.Context, m *Machine) error { d.calls = append(d.calls, "healthy"); return nil },
		Progress:     func(step string) { *progress = append(*progress, step) },
	}
}

func TestSwapGuestOS(t *testing.T) {
	s, m, d, iso := isoMachine(t, true)
	var progress []string
	if err := s.SwapGuestOS(t.Context(), m, iso, swapSteps(d, nil, &progress)); err != nil {
		t.Fatal(err)
	}
	want := []string{"stop", "replace", "start berth-os-v0.1.0", "ssh berth-os-v0.1.0", "provision", "healthy", "commit"}
	if !slices.Equal(d.calls, want) {
		t.Errorf("calls = %q, want %q", d.calls, want)
	}
	if !slices.Contains(progress, "stopping the machine") || !slices.Contains(progress, "replacing its ISO with v0.1.0") {
		t.Errorf("steps = %q, want the stop and the swap said", progress)
	}
	g, _, err := m.GuestOS()
	if err != nil || g.Version != "v0.1.0" || g.Outdated("v0.1.0") || !d.running {
		t.Errorf("after the swap: %+v, %v, running %v", g, err, d.running)
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "boot.old.iso")); err == nil {
		t.Error("the old ISO is left after the swap")
	}
	if _, err := os.Stat(filepath.Join(m.Dir, ConfigFile)); err != nil {
		t.Errorf("the swap did not save the machine: %v", err)
	}
}

// TestSwapGuestOSUndone: a new guest OS that does not come up is undone:
// the old ISO is back, the machine runs it again when it ran before, and
// the error says so.
func TestSwapGuestOSUndone(t *testing.T) {
	tests := []struct {
		name      string
		running   bool
		failBoot  bool // the new ISO does not boot at all
		cancel    bool // the user interrupts during provisioning
		wantCalls []string
		wantMsg   string
	}{
		{"no SSH, was running", true, false, false,
			[]string{"stop", "replace", "start berth-os-v0.1.0", "ssh berth-os-v0.1.0", "kill", "restore", "start berth-os-v0.0.9", "ssh berth-os-v0.0.9"},
			`machine "dev" did not come up on v0.1.0: start machine "dev": no SSH after 3m0s; the machine is back on v0.0.9 with its data disk unchanged and running again`},
		{"does not boot, was stopped", false, true, false,
			[]string{"replace", "start berth-os-v0.1.0", "kill", "restore"},
			`machine "dev" did not come up on v0.1.0: berth-os-v0.1.0 does not boot`},
		{"interrupted", true, false, true,
			[]string{"stop", "replace", "start berth-os-v0.1.0", "ssh berth-os-v0.1.0", "provision", "kill", "restore"},
			"the machine is back on v0.0.9 with its data disk unchanged, stopped (`berth start dev` starts it)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, d, iso := isoMachine(t, tt.running)
			failSSH := map[string]bool{"berth-os-v0.1.0": !tt.failBoot && !tt.cancel}
			if tt.failBoot {
				d.failBoot["berth-os-v0.1.0"] = true
			}
			var progress []string
			steps := swapSteps(d, failSSH, &progress)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tt.cancel {
				steps.Provision = func(ctx context.Context, m *Machine) error {
					d.calls = append(d.calls, "provision")
					cancel()
					return ctx.Err()
				}
			}
			err := s.SwapGuestOS(ctx, m, iso, steps)
			if !errors.Is(err, ErrGuestOSNotReplaced) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want ErrGuestOSNotReplaced saying %q", err, tt.wantMsg)
			}
			if !slices.Equal(d.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", d.calls, tt.wantCalls)
			}
			if g, _, _ := m.GuestOS(); g.Version != "v0.0.9" || d.running != (tt.running && !tt.cancel) {
				t.Errorf("after the failed swap: boots %s, running %v", g.Version, d.running)
			}
			if tt.failBoot && !strings.Contains(err.Error(), "stopped as it was") {
				t.Errorf("err = %v, want it to say the machine is stopped as it was", err)
			}
		})
	}
}

// TestSwapGuestOSRestoreFails: when the old ISO cannot be put back, the
// error says where it is and what to do.
func TestSwapGuestOSRestoreFails(t *testing.T) {
	s, m, d, iso := isoMachine(t, true)
	d.failRestore = true
	var progress []string
	err := s.SwapGuestOS(t.Context(), m, iso, swapSteps(d, map[string]bool{"berth-os-v0.1.0": true}, &progress))
	for _, want := range []string{"did not come up on v0.1.0", "putting v0.0.9 back failed too: the disk is read-only", "the old ISO is kept in " + m.Dir, "`berth upgrade dev` tries again"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(m.Dir, "boot.old.iso")); err != nil {
		t.Errorf("the old ISO is gone: %v", err)
	}
}

func TestSwapGuestOSRefuses(t *testing.T) {
	s, m, d, _ := isoMachine(t, true)
	arm := testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "arm.iso"), "berth-os-v0.1.0-arm64")
	if err := s.SwapGuestOS(t.Context(), m, arm, Steps{}); err == nil || !strings.Contains(err.Error(), "is berth-os for arm64 and the machine is amd64") || len(d.calls) != 0 {
		t.Errorf("swap to an arm64 ISO = %v, calls %q", err, d.calls)
	}
	gm := &Machine{Config: Config{Name: "host", DriverName: "fake"}, Driver: fakedriver.New(drivers.Base{})}
	if err := s.SwapGuestOS(t.Context(), gm, arm, Steps{}); !errors.Is(err, drivers.ErrNotSupported) {
		t.Errorf("swap on a driver without BootISO = %v, want ErrNotSupported", err)
	}
	if _, ok, err := gm.GuestOS(); ok || err != nil {
		t.Errorf("GuestOS of a driver without BootISO = %v, %v", ok, err)
	}
}

func TestGuestOSOutdated(t *testing.T) {
	tests := []struct {
		have, brings string
		outdated     bool
	}{
		{"v0.0.9", "v0.1.0", true},
		{"v0.1.0", "v0.1.0", false},
		{"v0.2.10", "v0.2.9", false},
		{"v0.2.9", "v0.2.10", true},
		{"v0.1.0", "", false}, // this berth's is unknown
		{"", "v0.1.0", false}, // not berth-os
	}
	for _, tt := range tests {
		if got := (GuestOS{Version: tt.have}).Outdated(tt.brings); got != tt.outdated {
			t.Errorf("%q.Outdated(%q) = %v, want %v", tt.have, tt.brings, got, tt.outdated)
		}
	}
}
