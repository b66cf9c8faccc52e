package bootstrap

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/provision"
)

// TestProvisionNeedsARunningMachine: provisioning a machine that does not
// run fails at once, saying what to do, before any SSH.
func TestProvisionNeedsARunningMachine(t *testing.T) {
	hypervisorGone := errors.New("hypervisor gone")
	tests := []struct {
		d    stubDriver
		want string
	}{
		{stubDriver{state: drivers.StateStopped}, "machine \"dev\" is Stopped: start it first (`berth start dev`)"},
		{stubDriver{state: drivers.StateError, stateErr: hypervisorGone}, `state of machine "dev": hypervisor gone`},
	}
	for _, tt := range tests {
		m := stubMachine(t, &tt.d)
		res, err := Provision(context.Background(), m, provision.Options{Machine: "dev"})
		if err == nil || err.Error() != tt.want || res != nil {
			t.Errorf("Provision on a %s machine = %v, %v; want error %q", tt.d.state, res, err, tt.want)
		}
	}
}

// TestSteps: Steps fills every step after the VM runs, and its Provision
// step is Provision.
func TestSteps(t *testing.T) {
	s := Steps(Options{})
	if s.MakeKey == nil || s.WaitSSH == nil || s.Provision == nil || s.AgentHealthy == nil {
		t.Fatalf("Steps left a step out: %+v", s)
	}
	if s.Progress != nil {
		t.Error("Steps set Progress, which is the CLI's")
	}
	m := stubMachine(t, &stubDriver{state: drivers.StateStopped})
	if err := s.Provision(context.Background(), m); err == nil || !strings.Contains(err.Error(), "start it first") {
		t.Errorf("the Provision step on a stopped machine: %v, want Provision's error", err)
	}
}
