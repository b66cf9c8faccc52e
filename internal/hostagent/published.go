package hostagent

import (
	"context"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/runtime/berthapi"
)

// inspector is the agent call published needs.
type inspector interface {
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
}

// published remembers which containers publish ports, so that the events
// of the others (most: every `run --rm` sends four) cost no listing of
// the containers. A container's port bindings are fixed at create, so one
// look per container does: its create event says (berthapi.PublishesAttr),
// else an inspect. It is used by one goroutine, the event loop.
type published map[string]bool // container ID -> it has port bindings

// matters reports whether event m may change the forwards: an event of a
// container that publishes ports, or of one that cannot be looked at (it
// may have). The container is looked at on its first event. Its bindings
// are read as they are, not through forwards.OfContainer, which skips a
// binding whose host port is not a number yet ("": the agent picks one).
func (p published) matters(ctx context.Context, a inspector, m events.Message) bool {
	id := m.Actor.ID
	if !forwardActions[m.Action] {
		return false
	}
	if id == "" {
		return true
	}
	has, known := p[id]
	if m.Action == events.ActionDestroy {
		delete(p, id)
		return has || !known // a container gone before it was looked at may have had some
	}
	if known {
		return has
	}
	if v, ok := m.Actor.Attributes[berthapi.PublishesAttr]; ok && m.Action == events.ActionCreate {
		// The agent said so (the client asks with berthapi.EventsHeader).
		p[id] = v == "true"
		return p[id]
	}
	res, err := a.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		// Removed meanwhile (its destroy event follows) or the agent
		// failed: a listing settles it.
		return !errdefs.IsNotFound(err)
	}
	hc := res.Container.HostConfig
	has = hc != nil && (len(hc.PortBindings) > 0 || hc.PublishAllPorts)
	p[id] = has
	return has
}
