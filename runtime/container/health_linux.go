package container

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"time"
)

const healthFile = "health.json"

// healthChecks are the running containers' health checks: one timer per
// container with a check, nothing else while idle.
type healthChecks struct {
	mu     sync.Mutex
	checks map[string]*healthCheck
}

// healthCheck runs one container's check, each run after the previous.
type healthCheck struct {
	spec      Spec
	startedAt time.Time
	timer     *time.Timer
	stopped   bool
	health    Health
}

// healthEvent starts a container's checks at its start and stops them
// when its process ends or it is removed. It runs from emit: it only
// arms and stops timers.
func (r *Runtime) healthEvent(action string, spec Spec) {
	switch action {
	case ActionStart:
		r.startHealth(spec, time.Now(), nil)
	case ActionDie, ActionDestroy:
		r.stopHealth(spec.ID)
	}
}

// resumeHealth restarts the checks of the running containers found at
// New, keeping the health they had.
func (r *Runtime) resumeHealth() {
	r.mu.Lock()
	specs := make([]Spec, 0, len(r.entries))
	for _, e := range r.entries {
		specs = append(specs, e.spec())
	}
	r.mu.Unlock()
	for _, spec := range specs {
		if spec.Healthcheck.args(nil) == nil {
			continue
		}
		st, err := r.state(spec.ID)
		if err != nil || st.Status != StatusRunning {
			continue
		}
		var h Health
		if readJSON(filepath.Join(r.cdir(spec.ID), healthFile), &h) != nil {
			h = Health{Status: HealthStarting}
		}
		r.startHealth(spec, st.StartedAt, &h)
	}
}

func (r *Runtime) startHealth(spec Spec, startedAt time.Time, h *Health) {
	if spec.Healthcheck.args(nil) == nil {
		return
	}
	c := &healthCheck{spec: spec, startedAt: startedAt, health: Health{Status: HealthStarting, Log: []HealthResult{}}}
	if h != nil {
		c.health = *h
	} else if last := r.Health(spec.ID); last != nil {
		c.health.Log = last.Log // a restart keeps the log, as in Docker
	}
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	if old := r.health.checks[spec.ID]; old != nil {
		old.stopped = true
		old.timer.Stop()
	}
	if r.health.checks == nil {
		r.health.checks = map[string]*healthCheck{}
	}
	r.health.checks[spec.ID] = c
	writeJSON(filepath.Join(r.cdir(spec.ID), healthFile), c.health)
	c.timer = time.AfterFunc(spec.Healthcheck.interval(time.Since(startedAt), c.health.Status), func() { r.probe(c) })
}

func (r *Runtime) stopHealth(id string) {
	r.health.mu.Lock()
	defer r.health.mu.Unlock()
	if c := r.health.checks[id]; c != nil {
		c.stopped = true
		c.timer.Stop()
		delete(r.health.checks, id)
	}
}

// Health returns the container's health: nil when it has no health
// check. A stopped container keeps the health of its last run.
func (r *Runtime) Health(id string) *Health {
	r.health.mu.Lock()
	if c := r.health.checks[id]; c != nil {
		h := c.health
		h.Log = append([]HealthResult{}, h.Log...)
		r.health.mu.Unlock()
		return &h
	}
	r.health.mu.Unlock()
	var h Health
	if readJSON(filepath.Join(r.cdir(id), healthFile), &h) != nil {
		return nil
	}
	return &h
}

// probe runs the check once, records its result, tells of a status
// change and arms the next run.
func (r *Runtime) probe(c *healthCheck) {
	result := r.runHealthCheck(c.spec)
	r.health.mu.Lock()
	if c.stopped {
		r.health.mu.Unlock()
		return
	}
	old := c.health.Status
	c.health.record(c.spec.Healthcheck, result, c.startedAt)
	h := c.health
	writeJSON(filepath.Join(r.cdir(c.spec.ID), healthFile), h)
	c.timer.Reset(c.spec.Healthcheck.interval(time.Since(c.startedAt), h.Status))
	r.health.mu.Unlock()
	if h.Status != old {
		r.emit(ActionHealthStatus+": "+h.Status, c.spec, nil)
	}
}

// runHealthCheck execs the check in the container as docker exec does,
// killing it after the timeout.
func (r *Runtime) runHealthCheck(spec Spec) HealthResult {
	cfg := spec.Healthcheck
	res := HealthResult{Start: time.Now().UTC(), ExitCode: -1}
	id, err := r.ExecCreate(spec.ID, ExecSpec{Args: cfg.args(spec.Shell), AttachStdout: true, AttachStderr: true})
	if err != nil {
		res.End, res.Output = time.Now().UTC(), err.Error()
		return res
	}
	defer r.forgetExec(id)
	timeout := orDefault(cfg.Timeout, defaultHealthTimeout)
	// The timeout bounds the whole run, its start included: ExecStart
	// kills the check's process group when ctx ends. (A timer that killed
	// the pid it found missed a check not started yet on a loaded host,
	// which then ran to its end.)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var out frameText
	code, err := r.ExecStart(ctx, id, nil, &out, nil)
	res.End = time.Now().UTC()
	switch {
	case err != nil && ctx.Err() != nil:
		res.Output = fmt.Sprintf("Health check exceeded timeout (%s)", timeout)
		if s := out.String(); s != "" {
			res.Output += ": " + s
		}
	case err != nil:
		res.Output = err.Error()
	default:
		res.ExitCode, res.Output = code, out.String()
	}
	return res
}

// forgetExec drops an exec instance that no client will inspect.
func (r *Runtime) forgetExec(id string) {
	r.mu.Lock()
	delete(r.execs, id)
	r.mu.Unlock()
}

// frameText keeps the payload of Docker-framed output (stdout and stderr
// together, as the health log shows them), up to what the log keeps.
type frameText struct {
	buf bytes.Buffer
	cut bool
}

func (f *frameText) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) >= 8 {
		p = p[8:] // WriteFrame writes a frame at a time
	}
	keep := min(max(healthOutputMax-f.buf.Len(), 0), len(p))
	f.buf.Write(p[:keep])
	f.cut = f.cut || keep < len(p)
	return n, nil
}

// String is the output kept, with "..." when some was cut, as in Docker.
func (f *frameText) String() string {
	if f.cut {
		return f.buf.String() + "..."
	}
	return f.buf.String()
}
