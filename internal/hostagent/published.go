package hostagent

import (
	"context"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"
)

// inspector is the agent call published needs.
type inspector interface {
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
}

// published remembers which containers publish ports, so that the events
// of the others (most: every `run --rm` sends four) cost no listing of
// the containers. A container's port bindings are fixed at create, so one
// look per container does.
type published struct {
	mu    sync.Mutex
	ports map[string]bool // container ID -> it has port bindings
}

func newPublished() *published { return &published{ports: map[string]bool{}} }

// matters reports whether event m may change the forwards: an event of a
// container that publishes ports, or of one that cannot be looked at (it
// may have). The container is looked at on its first event.
func (p *published) matters(ctx context.Context, a inspector, m events.Message) bool {
	if !forwardActions[m.Action] {
		return false
	}
	id := m.Actor.ID
	p.mu.Lock()
	has, known := p.ports[id]
	if m.Action == events.ActionDestroy {
		delete(p.ports, id)
	}
	p.mu.Unlock()
	if known || id == "" {
		return has || id == ""
	}
	if m.Action == events.ActionDestroy {
		return true // gone before it was looked at
	}
	res, err := a.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		// Removed meanwhile (its destroy event follows) or the agent
		// failed: a listing settles it.
		return !errdefs.IsNotFound(err)
	}
	hc := res.Container.HostConfig
	has = hc != nil && (len(hc.PortBindings) > 0 || hc.PublishAllPorts)
	p.mu.Lock()
	p.ports[id] = has
	p.mu.Unlock()
	return has
}
