// Package converge brings one Docker engine's networks, volumes and
// containers to a compose project, labelled as docker compose labels them.
//
// The engine is reached through github.com/moby/moby/client's APIClient
// (a berth agent, through its host agent or SSH, or any Docker Engine).
// Load parses compose files with compose-spec/compose-go; Plan says what
// Up would change; Up converges; Down removes; Status reports.
package converge

import (
	"errors"
	"time"
)

// Sentinel errors callers branch on.
var (
	// ErrServiceFailed: Up could not bring one or more services up; the
	// Result names each one and why.
	ErrServiceFailed = errors.New("services failed")
	// ErrWaitTimeout: Up with Wait gave up before every service was
	// running or healthy.
	ErrWaitTimeout = errors.New("timed out waiting for services")
)

// Change is one thing Up would do to a container.
type Change struct {
	// Action is "create", "recreate", "remove" or "start".
	Action string
	// Service is the compose service the container belongs to.
	Service string
	// Container is the container's name (project-service-N).
	Container string
	// Reason says why, for people ("config changed: image", "orphan").
	Reason string
}

// Actions of a Change.
const (
	ActionCreate   = "create"
	ActionRecreate = "recreate"
	ActionRemove   = "remove"
	ActionStart    = "start"
)

// Event is one step of Up or Down, for progress displays. Status is
// "started", "done" or "failed" (with Err); pull and build progress has
// Status "progress" and the registry's or builder's words in Detail.
// Network and volume steps have no Service and name the network or
// volume in Container; a wait names what it waits for in Detail.
type Event struct {
	Service, Container, Step, Status string
	// Detail is extra text: a pull's layer progress, a health state.
	Detail   string
	Err      error
	Duration time.Duration
}

// Steps of an Event.
const (
	StepNetwork  = "network"
	StepVolume   = "volume"
	StepPull     = "pull"
	StepBuild    = "build"
	StepCreate   = "create"
	StepRecreate = "recreate"
	StepStart    = "start"
	StepRemove   = "remove"
	StepStop     = "stop"
	StepWait     = "wait"
)

// Statuses of an Event.
const (
	StatusStarted  = "started"
	StatusDone     = "done"
	StatusFailed   = "failed"
	StatusProgress = "progress"
)

// Result is what Up did, service by service.
type Result struct {
	Services []ServiceResult
}

// Failed returns the services that failed.
func (r Result) Failed() []ServiceResult {
	var out []ServiceResult
	for _, s := range r.Services {
		if s.Err != nil {
			out = append(out, s)
		}
	}
	return out
}

// ServiceResult is one service's containers and state.
type ServiceResult struct {
	Name string
	// Containers are the service's container names, by number.
	Containers []string
	// State is "running", "healthy", "unhealthy", "starting" (health not
	// yet known), "exited", "created", ... the least ready of the
	// service's containers; "" when it has none.
	State string
	// Err says why the service is not up (nil when it is).
	Err error
}

// UpOptions tune Up.
type UpOptions struct {
	// Services limits Up to these services and what they depend on (all
	// when empty). Orphans are removed either way.
	Services []string
	// Wait makes Up gate until every service is running (healthy when it
	// has a healthcheck, exited 0 when another waits for it to complete)
	// or WaitTimeout passes.
	Wait bool
	// WaitTimeout bounds Wait (and each wait for a dependency's
	// condition); 0 is DefaultWaitTimeout.
	WaitTimeout time.Duration
	// Progress, when set, is told of each step (from several goroutines
	// one at a time).
	Progress func(Event)
}

// DefaultWaitTimeout bounds waits when UpOptions.WaitTimeout is 0.
const DefaultWaitTimeout = 5 * time.Minute
