package envup

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/teamenv"
)

// Services converges one machine's compose project through its agent's
// Docker API: internal/converge's functions, plugged in by the CLI.
type Services struct {
	Load func(ctx context.Context, files []string, project, workDir string, profiles []string) (*types.Project, error)
	Plan func(ctx context.Context, api client.APIClient, p *types.Project) ([]ServiceChange, error)
	Up   func(ctx context.Context, api client.APIClient, p *types.Project, wait bool, timeout time.Duration, progress func(ServiceEvent)) ([]ServiceResult, error)
	Down func(ctx context.Context, api client.APIClient, project string, volumes bool) error
}

// ServiceChange is one change to a service's containers.
type ServiceChange struct {
	Action    string `json:"action"` // create, recreate, remove, start
	Service   string `json:"service"`
	Container string `json:"container,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ServiceEvent is one step of converging a service.
type ServiceEvent struct {
	Service, Container, Step, Status string
	Err                              error
	Duration                         time.Duration
}

// ServiceResult is where a service ended.
type ServiceResult struct {
	Name       string `json:"name"`
	Containers int    `json:"containers"`
	State      string `json:"state"`
	Err        error  `json:"-"`
	Error      string `json:"error,omitempty"`
}

// ports lists the host ports p's services publish on machine.
func ports(machine string, p *types.Project) []teamenv.PortUse {
	var out []teamenv.PortUse
	for _, s := range p.Services {
		for _, pc := range s.Ports {
			if pc.Published == "" {
				continue
			}
			lo, hi := pc.Published, pc.Published
			if a, b, ok := strings.Cut(pc.Published, "-"); ok {
				lo, hi = a, b
			}
			l, err1 := strconv.Atoi(lo)
			h, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil {
				continue
			}
			proto := pc.Protocol
			if proto == "" {
				proto = "tcp"
			}
			for port := l; port <= h; port++ {
				out = append(out, teamenv.PortUse{Machine: machine, Service: s.Name, Proto: proto, Port: port})
			}
		}
	}
	return out
}
