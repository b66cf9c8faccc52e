package forwards

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"

	"github.com/berthvm/berth/drivers"
)

func TestSync(t *testing.T) {
	tcp := freePorts(t, "tcp", 2)
	udp := freePorts(t, "udp", 1)
	p1 := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: tcp[0], GuestPort: tcp[0]}
	p2 := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: tcp[1], GuestPort: tcp[1]}
	u1 := drivers.Forward{Proto: "udp", HostIP: "127.0.0.1", HostPort: udp[0], GuestPort: udp[0]}
	web := func(st ctypes.ContainerState, fwds ...drivers.Forward) fakeContainer {
		return fakeContainer{id: "0123456789abcdef-web", state: st, fwds: fwds}
	}
	db := func(st ctypes.ContainerState, fwds ...drivers.Forward) fakeContainer {
		return fakeContainer{id: "fedcba9876543210-db", state: st, fwds: fwds}
	}
	boom := errors.New("agent went away")
	tests := []struct {
		name        string
		containers  []fakeContainer
		listErr     error
		have        []drivers.Forward // forwards pf has, listening
		dead        []drivers.Forward // forwards pf has that nothing listens on
		taken       []drivers.Forward // host ports another program holds
		renew       bool
		wantAdded   []drivers.Forward
		wantRemoved []drivers.Forward
		wantCalls   []string
		wantHave    []drivers.Forward // pf's forwards afterwards
		wantErr     []string          // each in the error; none: no error
		wantIs      error
	}{
		{
			name:       "running container gets its forward",
			containers: []fakeContainer{web(ctypes.StateRunning, p1)},
			wantAdded:  []drivers.Forward{p1},
			wantCalls:  []string{"add " + forwardName(p1)},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "restarting and paused containers get theirs, udp too",
			containers: []fakeContainer{web(ctypes.StateRestarting, p1), db(ctypes.StatePaused, u1)},
			wantAdded:  []drivers.Forward{p1, u1},
			wantCalls:  []string{"add " + forwardName(p1), "add " + forwardName(u1)},
			wantHave:   []drivers.Forward{p1, u1},
		},
		{
			name:        "stopped container's forward removed",
			containers:  []fakeContainer{web(ctypes.StateExited, p1)},
			have:        []drivers.Forward{p1},
			wantRemoved: []drivers.Forward{p1},
			wantCalls:   []string{"remove " + forwardName(p1)},
		},
		{
			name:        "removed container's forward removed",
			have:        []drivers.Forward{p1},
			wantRemoved: []drivers.Forward{p1},
			wantCalls:   []string{"remove " + forwardName(p1)},
		},
		{
			name:       "created container's forward kept",
			containers: []fakeContainer{web(ctypes.StateCreated, p1)},
			have:       []drivers.Forward{p1},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "created container's forward not added",
			containers: []fakeContainer{web(ctypes.StateCreated, p1)},
		},
		{
			name:       "an already-right forward left alone",
			containers: []fakeContainer{web(ctypes.StateRunning, p1)},
			have:       []drivers.Forward{p1},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "two containers on one forward: made once",
			containers: []fakeContainer{web(ctypes.StateRunning, p1), db(ctypes.StateRunning, p1)},
			wantAdded:  []drivers.Forward{p1},
			wantCalls:  []string{"add " + forwardName(p1)},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "renew re-makes it",
			containers: []fakeContainer{web(ctypes.StateRunning, p1)},
			have:       []drivers.Forward{p1},
			renew:      true,
			wantAdded:  []drivers.Forward{p1},
			wantCalls:  []string{"remove " + forwardName(p1), "add " + forwardName(p1)},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "a forward nothing listens on is made again",
			containers: []fakeContainer{web(ctypes.StateRunning, p1)},
			dead:       []drivers.Forward{p1},
			wantAdded:  []drivers.Forward{p1},
			wantCalls:  []string{"remove " + forwardName(p1), "add " + forwardName(p1)},
			wantHave:   []drivers.Forward{p1},
		},
		{
			name:       "a taken host port is an error naming it; the other forwards are made",
			containers: []fakeContainer{web(ctypes.StateRunning, p1), db(ctypes.StateRunning, p2)},
			taken:      []drivers.Forward{p1},
			wantAdded:  []drivers.Forward{p2},
			wantCalls:  []string{"add " + forwardName(p2)},
			wantHave:   []drivers.Forward{p2},
			wantErr:    []string{fmt.Sprintf("host port 127.0.0.1:%d/tcp is taken by ", p1.HostPort), "-p OTHERPORT:CONTAINERPORT"},
		},
		{
			name:     "list error wrapped",
			listErr:  boom,
			have:     []drivers.Forward{p1},
			wantHave: []drivers.Forward{p1},
			wantErr:  []string{"list containers: agent went away"},
			wantIs:   boom,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &fakeAgent{containers: tt.containers, listErr: tt.listErr}
			pf := newForwarder(t)
			for _, f := range tt.have {
				pf.has(t, f, false)
			}
			for _, f := range tt.dead {
				pf.has(t, f, true)
			}
			for _, f := range tt.taken {
				listen(t, f)
			}
			run := Sync
			if tt.renew {
				run = Renew
			}
			added, removed, err := run(context.Background(), a, pf)
			if len(tt.wantErr) == 0 && err != nil {
				t.Errorf("err = %v, want none", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want one with %q", err, w)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want one that is %v", err, tt.wantIs)
			}
			if !slices.Equal(added, tt.wantAdded) {
				t.Errorf("added = %v, want %v", added, tt.wantAdded)
			}
			if !slices.Equal(removed, tt.wantRemoved) {
				t.Errorf("removed = %v, want %v", removed, tt.wantRemoved)
			}
			if !slices.Equal(pf.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", pf.calls, tt.wantCalls)
			}
			if !slices.Equal(pf.fwds, tt.wantHave) {
				t.Errorf("forwards afterwards = %v, want %v", pf.fwds, tt.wantHave)
			}
			for _, f := range tt.wantHave {
				if portFree(f) == nil {
					t.Errorf("nothing listens on %s afterwards", forwardName(f))
				}
			}
		})
	}
}

func TestSyncWithoutForwarder(t *testing.T) {
	a := &fakeAgent{listErr: errors.New("not asked")}
	for name, run := range map[string]func(context.Context, Agent, drivers.PortForwarder) ([]drivers.Forward, []drivers.Forward, error){"Sync": Sync, "Renew": Renew} {
		if added, removed, err := run(context.Background(), a, nil); added != nil || removed != nil || err != nil {
			t.Errorf("%s with a nil forwarder = %v, %v, %v; want nothing", name, added, removed, err)
		}
	}
}

func TestSyncInspectError(t *testing.T) {
	a := &fakeAgent{containers: []fakeContainer{{id: "0123456789abcdef", state: ctypes.StateRunning, fwds: []drivers.Forward{{Proto: "tcp", HostIP: "127.0.0.1", HostPort: 1, GuestPort: 1}}}},
		inspectErr: errors.New("no such container")}
	_, _, err := Sync(context.Background(), a, newForwarder(t))
	if want := "published ports of container 0123456789ab: no such container"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
