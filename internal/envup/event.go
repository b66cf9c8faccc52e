package envup

import (
	"sync"
	"time"
)

// Event is one step of up or down, for the CLI's table, lines or JSON.
type Event struct {
	Machine string `json:"machine"` // short name
	Service string `json:"service,omitempty"`
	Step    string `json:"step"`
	// Status is "started", "done" or "failed".
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// DurationMS is how long the step took (done and failed).
	DurationMS int64 `json:"duration_ms,omitempty"`
}

// reporter sends events to one callback from many goroutines.
type reporter struct {
	mu sync.Mutex
	fn func(Event)
}

func (r *reporter) send(e Event) {
	if r.fn == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fn(e)
}

// step reports the start of a machine step and returns the function that
// reports its end.
func (r *reporter) step(machine, step string) func(err error) error {
	r.send(Event{Machine: machine, Step: step, Status: "started"})
	start := time.Now()
	return func(err error) error {
		e := Event{Machine: machine, Step: step, Status: "done", DurationMS: time.Since(start).Milliseconds()}
		if err != nil {
			e.Status, e.Error = "failed", err.Error()
		}
		r.send(e)
		return err
	}
}

// service relays a converge event of machine's services.
func (r *reporter) service(machine string, ev ServiceEvent) {
	e := Event{Machine: machine, Service: ev.Service, Step: ev.Step, Status: ev.Status, DurationMS: ev.Duration.Milliseconds()}
	if ev.Err != nil {
		e.Status, e.Error = "failed", ev.Err.Error()
	}
	r.send(e)
}
