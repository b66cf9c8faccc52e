package generic

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/sshutil"
)

type flagValues map[string]any

func (f flagValues) String(n string) string        { s, _ := f[n].(string); return s }
func (f flagValues) Int(n string) int              { i, _ := f[n].(int); return i }
func (f flagValues) Bool(n string) bool            { b, _ := f[n].(bool); return b }
func (f flagValues) StringSlice(n string) []string { s, _ := f[n].([]string); return s }
func (f flagValues) IsSet(n string) bool           { _, ok := f[n]; return ok }

func TestConfigure(t *testing.T) {
	tests := []struct {
		name    string
		flags   flagValues
		wantErr []string // every bad flag named
	}{
		{"good", flagValues{"generic-ip-address": "10.0.0.5", "generic-ssh-user": "ann", "generic-ssh-key": "/k", "generic-ssh-port": 2222}, nil},
		{"all bad", flagValues{"generic-ssh-user": "", "generic-ssh-port": 0},
			[]string{"--generic-ip-address is required", "--generic-ssh-user", "--generic-ssh-key is required", "--generic-ssh-port 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := New(drivers.Base{MachineName: "gen"})
			err := configure(d, tt.flags)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("configure: %v", err)
				}
				if d.IPAddress != "10.0.0.5" || d.SSHUser != "ann" || d.SSHKey != "/k" || d.SSHPort != 2222 {
					t.Errorf("driver = %+v, want the flags' values", d)
				}
				return
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("configure error = %v, want it to name %q", err, want)
				}
			}
		})
	}
}

func TestNoLifecycle(t *testing.T) {
	var d drivers.Driver = New(drivers.Base{})
	if _, ok := d.(drivers.Lifecycle); ok {
		t.Error("the generic driver has the Lifecycle role; hosts are started and stopped outside berth")
	}
	if d.Capabilities().Lifecycle {
		t.Error("Capabilities says Lifecycle")
	}
}

func TestUnreachableHost(t *testing.T) {
	dir := t.TempDir()
	d := New(drivers.Base{MachineName: "gen", Dir: dir})
	d.IPAddress, d.SSHPort, d.SSHKey = "127.0.0.1", 1, writeKey(t, dir)
	if err := d.PreCreateCheck(t.Context()); !errors.Is(err, drivers.ErrPreCreate) {
		t.Errorf("PreCreateCheck of an unreachable host = %v, want ErrPreCreate", err)
	}
	// Never adopted: nothing of berth's on it.
	if st, err := d.State(t.Context()); st == drivers.StateRunning || !errors.Is(err, drivers.ErrMachineNotExist) {
		t.Errorf("State of a host never adopted = %v, %v; want ErrMachineNotExist", st, err)
	}
	if err := d.Remove(t.Context()); err != nil {
		t.Errorf("Remove of a never-adopted host: %v", err)
	}
	// Adopted (its key pinned), then unreachable.
	if err := os.WriteFile(filepath.Join(dir, "known_hosts"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := d.State(t.Context())
	if st != drivers.StateError || err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("State of an unreachable host = %v, %v; want Error with the reason", st, err)
	}
	if err := d.Remove(t.Context()); err == nil || !strings.Contains(err.Error(), "--keep-agent") {
		t.Errorf("Remove of an unreachable host = %v, want an error naming --keep-agent", err)
	}
	if err := d.Remove(WithKeepAgent(t.Context())); err != nil {
		t.Errorf("Remove --keep-agent of an unreachable host: %v", err)
	}
}

// writeKey makes an SSH key in dir and returns its path.
func writeKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := sshutil.GenerateKey(filepath.Join(dir, "key"), "test")
	if err != nil {
		t.Fatal(err)
	}
	return k.Path
}
