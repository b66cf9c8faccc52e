package forwards

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
)

func TestAdd(t *testing.T) {
	ports := freePorts(t, "tcp", 2)
	f1 := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: ports[0], GuestPort: 80}
	f2 := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: ports[1], GuestPort: 443}
	tests := []struct {
		name      string
		deaf      bool
		failAdd   int
		wantErr   string
		wantCalls []string
		wantHave  []drivers.Forward
	}{
		{name: "both", wantCalls: []string{"add " + forwardName(f1), "add " + forwardName(f2)}, wantHave: []drivers.Forward{f1, f2}},
		{name: "the second fails: none", failAdd: f2.HostPort,
			wantErr:   fmt.Sprintf("forward host port 127.0.0.1:%d to the machine: fake forwarder: add failed", f2.HostPort),
			wantCalls: []string{"add " + forwardName(f1), "add " + forwardName(f2), "remove " + forwardName(f1), "remove " + forwardName(f2)}},
		{name: "nothing listens: none", deaf: true,
			wantErr:   "the forward was added but nothing listens on the host port",
			wantCalls: []string{"add " + forwardName(f1), "remove " + forwardName(f1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pf := newForwarder(t)
			pf.deaf, pf.failAdd = tt.deaf, tt.failAdd
			// The wait for a deaf forward ends with ctx.
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			err := Add(ctx, pf, []drivers.Forward{f1, f2})
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Add: err = %v, want %q", err, tt.wantErr)
			}
			if !slices.Equal(pf.calls, tt.wantCalls) {
				t.Errorf("calls = %q, want %q", pf.calls, tt.wantCalls)
			}
			if !slices.Equal(pf.fwds, tt.wantHave) {
				t.Errorf("forwards afterwards = %v, want %v", pf.fwds, tt.wantHave)
			}
		})
	}
}

func TestRemoveAfterCancel(t *testing.T) {
	pf := newForwarder(t)
	f := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: freePorts(t, "tcp", 1)[0], GuestPort: 80}
	pf.has(t, f, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Remove(ctx, pf, []drivers.Forward{f}); err != nil || len(pf.fwds) != 0 {
		t.Errorf("Remove after cancel = %v, forwards left %v; want none", err, pf.fwds)
	}
}

func TestNilForwarder(t *testing.T) {
	f := []drivers.Forward{{Proto: "tcp", HostIP: "127.0.0.1", HostPort: 1, GuestPort: 1}}
	if err := Add(context.Background(), nil, f); err != nil {
		t.Errorf("Add to nil = %v", err)
	}
	if err := Remove(context.Background(), nil, f); err != nil {
		t.Errorf("Remove from nil = %v", err)
	}
}
