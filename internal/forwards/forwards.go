// Package forwards keeps a machine's host port forwards in line with its
// containers.
//
// The host forwards of a machine are brought in line with its containers
// by Sync whenever berth talks to the machine to change containers (run,
// container start, stop, restart, kill, rm) and by Restore when a machine
// starts (start, restart): every published port of a running, restarting
// or paused container is forwarded; forwards of containers that stopped,
// exited on their own or were removed by the agent (run -d --rm) are
// removed. Between two such commands a container that exited on its own
// keeps its forward, which then answers with a reset connection; nothing
// on the host watches the agent.
package forwards

import (
	"context"

	"github.com/moby/moby/client"
)

// Agent is what this package asks of a machine's agent: the calls of the
// Docker Engine API client (*client.Client, which agentclient.Client
// embeds) that list and inspect containers.
type Agent interface {
	ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error)
}

// The calls of *client.Client match Agent.
var _ Agent = (*client.Client)(nil)
