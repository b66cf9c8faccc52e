package bootstrap

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/sshutil"
)

func TestMakeKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dev")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := MakeKey(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "ssh-ed25519 ") || !strings.HasSuffix(got, " berth-dev") {
		t.Errorf("MakeKey = %q, want an ed25519 key line named berth-dev", got)
	}
	kp, err := sshutil.LoadKey(filepath.Join(dir, sshutil.KeyFile))
	if err != nil {
		t.Fatalf("load the key MakeKey made: %v", err)
	}
	if strings.TrimSpace(kp.PublicKey) != got {
		t.Errorf("the key in %s is %q, want %q", dir, kp.PublicKey, got)
	}
	if _, err := MakeKey(context.Background(), filepath.Join(t.TempDir(), "missing", "dev")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("MakeKey in a folder that does not exist: %v, want it to say so", err)
	}
}

func TestSSHTarget(t *testing.T) {
	noEndpoint := errors.New("no endpoint")
	tests := []struct {
		name     string
		d        stubDriver
		wantAddr string
		wantErr  []string
	}{
		{"running", stubDriver{state: drivers.StateRunning, ep: drivers.Endpoint{Host: "127.0.0.1", Port: 2222, User: "root"}}, "127.0.0.1:2222", nil},
		{"stopped", stubDriver{state: drivers.StateStopped, epErr: noEndpoint},
			"", []string{"machine \"dev\" is Stopped (start it with `berth start dev`): ssh to machine \"dev\": no endpoint"}},
		{"running without an endpoint", stubDriver{state: drivers.StateRunning, epErr: noEndpoint},
			"", []string{`ssh to machine "dev": no endpoint`}},
		{"state unknown", stubDriver{state: drivers.StateError, stateErr: errors.New("hypervisor gone"), epErr: noEndpoint},
			"", []string{`ssh to machine "dev": no endpoint`}},
		{"unusable endpoint", stubDriver{state: drivers.StateRunning}, "", []string{"no usable endpoint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := stubMachine(t, &tt.d)
			got, err := SSHTarget(context.Background(), m)
			if tt.wantErr == nil {
				if err != nil || got.Addr != tt.wantAddr || got.User != "root" {
					t.Errorf("SSHTarget = %+v, %v; want root@%s", got, err, tt.wantAddr)
				}
				return
			}
			if err == nil {
				t.Fatalf("SSHTarget = %+v; want an error", got)
			}
			if tt.d.epErr != nil && !errors.Is(err, tt.d.epErr) {
				t.Errorf("SSHTarget error %v does not wrap the driver's %v", err, tt.d.epErr)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("SSHTarget error %q, want it to hold %q", err, w)
				}
			}
			if tt.d.state != drivers.StateStopped && strings.Contains(err.Error(), "berth start") {
				t.Errorf("SSHTarget error %q tells to start a machine that is %s", err, tt.d.state)
			}
		})
	}
}
