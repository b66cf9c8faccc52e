package forwards

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/fakedriver"
	"github.com/berthvm/berth/internal/machine"
)

func TestRestore(t *testing.T) {
	port := freePorts(t, "tcp", 1)[0]
	f := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: port, GuestPort: port}
	notRunning := &agentclient.Error{Machine: "dev", Stage: agentclient.StageAgent, Err: fmt.Errorf("%w: connect to the agent: refused", agentclient.ErrAgentNotRunning)}
	noAgent := &agentclient.Error{Machine: "dev", Stage: agentclient.StageAgent, Err: fmt.Errorf("%w at /usr/local/bin/berth-agent: not found", agentclient.ErrNoAgent)}
	tests := []struct {
		name      string
		fails     []error // what the tries to reach the agent fail with, in turn
		listErr   error
		renew     bool
		have      []drivers.Forward
		wantTries int
		wantAdded []drivers.Forward
		wantCalls []string
		wantErr   string
		wantIs    error
	}{
		{name: "answers at once", wantTries: 1, wantAdded: []drivers.Forward{f}, wantCalls: []string{"add " + forwardName(f)}},
		{name: "answers at the third try", fails: []error{notRunning, notRunning}, wantTries: 3,
			wantAdded: []drivers.Forward{f}, wantCalls: []string{"add " + forwardName(f)}},
		{name: "booted: kept forwards made again", renew: true, have: []drivers.Forward{f}, wantTries: 1,
			wantAdded: []drivers.Forward{f}, wantCalls: []string{"remove " + forwardName(f), "add " + forwardName(f)}},
		{name: "not booted: kept forwards left alone", have: []drivers.Forward{f}, wantTries: 1},
		{name: "no agent: left alone", fails: []error{noAgent}, wantTries: 1},
		{name: "never answers", fails: slices.Repeat([]error{notRunning}, 1000),
			wantErr: `restore the host forwards of machine "dev": its agent did not answer within 50ms (see ` + "`berth inspect dev`): ", wantIs: agentclient.ErrAgentNotRunning},
		{name: "sync fails", listErr: errors.New("boom"), wantTries: 1,
			wantErr: `restore the host forwards of machine "dev": list containers: boom`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeAgent{containers: []fakeContainer{{id: "web", state: ctypes.StateRunning, fwds: []drivers.Forward{f}}}, listErr: tt.listErr}
			pf := newForwarder(t)
			for _, h := range tt.have {
				pf.has(t, h, false)
			}
			tries := 0
			dial := func(ctx context.Context) (agentConn, error) {
				tries++
				if tries <= len(tt.fails) {
					return nil, tt.fails[tries-1]
				}
				return a, nil
			}
			r := restorer{machine: "dev", pf: pf, dial: dial, renew: tt.renew, timeout: 50 * time.Millisecond, retry: time.Millisecond}
			added, removed, err := r.restore(context.Background())
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want one that is %v", err, tt.wantIs)
			}
			if tt.wantTries > 0 && tries != tt.wantTries {
				t.Errorf("tried %d times, want %d", tries, tt.wantTries)
			}
			if !slices.Equal(added, tt.wantAdded) || removed != nil {
				t.Errorf("added, removed = %v, %v; want %v, none", added, removed, tt.wantAdded)
			}
			if !slices.Equal(pf.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", pf.calls, tt.wantCalls)
			}
			if tries > len(tt.fails) && a.closed != 1 {
				t.Errorf("agent closed %d times, want once", a.closed)
			}
		})
	}
}

// A machine whose driver needs no forwards is left alone, without asking
// its agent.
func TestRestoreWithoutForwarder(t *testing.T) {
	dir := t.TempDir()
	m := &machine.Machine{Config: machine.Config{Name: "dev", DriverName: fakedriver.Name}, Dir: dir,
		Driver: fakedriver.New(drivers.Base{MachineName: "dev", Dir: dir})}
	if _, ok := m.Driver.(drivers.PortForwarder); ok {
		t.Fatal("the fake driver forwards ports: pick another machine for this test")
	}
	if added, removed, err := Restore(context.Background(), m, true); added != nil || removed != nil || err != nil {
		t.Errorf("Restore = %v, %v, %v; want nothing", added, removed, err)
	}
}
