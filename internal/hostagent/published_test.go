package hostagent

import (
	"context"
	"errors"
	"testing"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/runtime/berthapi"
)

// fakeInspector answers ContainerInspect from a table and counts calls.
type fakeInspector struct {
	hcs   map[string]*container.HostConfig
	err   error
	calls int
}

func (f *fakeInspector) ContainerInspect(_ context.Context, id string, _ client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	f.calls++
	if f.err != nil {
		return client.ContainerInspectResult{}, f.err
	}
	hc, ok := f.hcs[id]
	if !ok {
		return client.ContainerInspectResult{}, errdefs.ErrNotFound
	}
	var res client.ContainerInspectResult
	res.Container.HostConfig = hc
	return res, nil
}

func ev(action events.Action, id string) events.Message {
	return events.Message{Type: events.ContainerEventType, Action: action, Actor: events.Actor{ID: id}}
}

func TestPublishedMatters(t *testing.T) {
	ctx := context.Background()
	web := &container.HostConfig{PortBindings: network.PortMap{network.MustParsePort("80/tcp"): {{HostPort: "8080"}}}}
	f := &fakeInspector{hcs: map[string]*container.HostConfig{
		"plain": {}, "web": web, "all": {PublishAllPorts: true},
	}}
	p := published{}
	steps := []struct {
		m    events.Message
		want bool
	}{
		{ev(events.ActionCreate, "plain"), false},
		{ev(events.ActionStart, "plain"), false},
		{ev(events.ActionDie, "plain"), false},
		{ev(events.ActionDestroy, "plain"), false},
		{ev(events.ActionCreate, "web"), true},
		{ev(events.ActionStart, "web"), true},
		{ev(events.ActionExecStart, "web"), false}, // not an action that moves forwards
		{ev(events.ActionStart, "all"), true},
		{ev(events.ActionDestroy, "web"), true},
		{ev(events.ActionStart, "gone"), false}, // removed before it was looked at: its destroy follows
		{ev(events.ActionDestroy, "never-seen"), true},
	}
	for i, s := range steps {
		if got := p.matters(ctx, f, s.m); got != s.want {
			t.Errorf("step %d (%s %s): matters = %v, want %v", i, s.m.Action, s.m.Actor.ID, got, s.want)
		}
	}
	if f.calls != 4 { // plain, web, all, gone: once each
		t.Errorf("%d inspects, want 4 (one per container)", f.calls)
	}
	// After its destroy, a container is forgotten.
	if _, ok := p["plain"]; ok {
		t.Error("plain is still remembered after its destroy")
	}

	// A create event that says whether the container publishes ports
	// (berthapi.PublishesAttr) needs no inspect.
	said := &fakeInspector{}
	q := published{}
	for id, v := range map[string]string{"quiet": "false", "loud": "true"} {
		m := ev(events.ActionCreate, id)
		m.Actor.Attributes = map[string]string{berthapi.PublishesAttr: v}
		if got := q.matters(ctx, said, m); got != (v == "true") {
			t.Errorf("create of %s saying %s=%s: matters = %v", id, berthapi.PublishesAttr, v, got)
		}
		if got := q.matters(ctx, said, ev(events.ActionStart, id)); got != (v == "true") {
			t.Errorf("start of %s: matters = %v, want %v", id, got, v == "true")
		}
	}
	if said.calls != 0 {
		t.Errorf("%d inspects for containers whose create said, want none", said.calls)
	}

	// An agent that fails: the event matters (a listing settles it).
	bad := &fakeInspector{err: errors.New("connection reset")}
	if !(published{}).matters(ctx, bad, ev(events.ActionStart, "x")) {
		t.Error("an event whose container could not be looked at does not matter")
	}
}
