package converge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Up converges the engine onto p: networks and volumes first, then each
// service's image (pulled when missing; built when missing for a service
// with build:) and containers in dependency order (a service starts once what
// it depends on meets its depends_on condition: service_started,
// service_healthy or service_completed_successfully), services that
// depend on nothing pending in parallel. An unchanged container is left
// running; a changed one (config hash or image) is recreated; a stopped
// one is started; replicas beyond the scale and orphans (containers of
// services p no longer has) are removed. With Wait it gates until every
// service is ready or WaitTimeout passes.
//
// One service's failure does not stop the others (only those that
// require it): the Result lists every service with its state and error,
// and the returned error (ErrServiceFailed) names the failed ones. An
// error with an empty Result means nothing was tried (bad project,
// engine unreachable, a network or volume that could not be made).
func Up(ctx context.Context, api client.APIClient, p *types.Project, opts UpOptions) (Result, error) {
	if err := checkSupported(p); err != nil {
		return Result{}, err
	}
	sel := p
	if len(opts.Services) > 0 {
		var err error
		if sel, err = p.WithSelectedServices(opts.Services); err != nil {
			return Result{}, fmt.Errorf("select services: %w", err)
		}
	}
	order, err := dependencyOrder(sel)
	if err != nil {
		return Result{}, err
	}
	emit := serialize(opts.Progress)
	timeout := opts.WaitTimeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	if err := ensureNetworks(ctx, api, sel, emit); err != nil {
		return Result{}, err
	}
	if err := ensureVolumes(ctx, api, sel, emit); err != nil {
		return Result{}, err
	}
	cs, err := projectContainers(ctx, api, p.Name, false)
	if err != nil {
		return Result{}, err
	}
	have := byService(cs)

	var orphanErrs []error
	for _, st := range orphans(p, have) {
		if err := runStep(ctx, api, emit, st, StepRemove, func() error { return stopRemove(ctx, api, st.id) }); err != nil {
			orphanErrs = append(orphanErrs, err)
		}
	}

	u := &upRun{api: api, p: sel, emit: emit, timeout: timeout, have: have,
		images: &images{api: api, emit: emit, m: map[string]*imageEntry{}},
		runs:   map[string]*serviceRun{}}
	for _, n := range order {
		u.runs[n] = &serviceRun{done: make(chan struct{})}
	}
	var wg sync.WaitGroup
	for _, n := range order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := u.runs[n]
			defer close(r.done)
			r.err = u.service(ctx, sel.Services[n])
		}()
	}
	wg.Wait()

	if opts.Wait {
		u.waitAll(ctx)
	}
	res := u.result(ctx)
	var failed []string
	for _, s := range res.Services {
		if s.Err != nil {
			failed = append(failed, s.Name)
		}
	}
	var errs []error
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s", ErrServiceFailed, strings.Join(failed, ", ")))
	}
	errs = append(errs, orphanErrs...)
	return res, errors.Join(errs...)
}

// upRun is one Up in progress.
type upRun struct {
	api     client.APIClient
	p       *types.Project
	emit    func(Event)
	timeout time.Duration
	have    map[string][]container.Summary
	images  *images
	runs    map[string]*serviceRun
}

// serviceRun is one service's part of an Up; done closes when it has
// been converged (or failed).
type serviceRun struct {
	done chan struct{}
	err  error
	// ids are the service's container IDs by replica number (index 0 is
	// replica 1).
	ids []string
}

// service waits for the service's dependencies, then converges its
// containers.
func (u *upRun) service(ctx context.Context, s types.ServiceConfig) error {
	deps := make([]string, 0, len(s.DependsOn))
	for d := range s.DependsOn {
		if _, ok := u.runs[d]; ok {
			deps = append(deps, d)
		}
	}
	sort.Strings(deps)
	for _, d := range deps {
		dep := s.DependsOn[d]
		r := u.runs[d]
		select {
		case <-r.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		err := r.err
		if err != nil {
			err = fmt.Errorf("dependency %s failed", d)
		} else {
			err = u.waitDependency(ctx, s.Name, d, dep.Condition, r.ids)
		}
		if err != nil {
			if !dep.Required {
				continue
			}
			u.emit(Event{Service: s.Name, Step: StepStart, Status: StatusFailed, Err: err})
			return err
		}
	}
	return u.converge(ctx, s)
}

// converge pulls the service's image when missing and brings its
// containers to the plan.
func (u *upRun) converge(ctx context.Context, s types.ServiceConfig) error {
	id, err := u.images.ensure(ctx, u.p, s)
	if err != nil {
		return err
	}
	steps, err := planService(u.p, s, id, u.have[s.Name])
	if err != nil {
		return err
	}
	hash, err := ServiceHash(s)
	if err != nil {
		return err
	}
	ids := make([]string, s.GetScale())
	for _, c := range u.have[s.Name] {
		if n := number(c); n >= 1 && n <= len(ids) && ids[n-1] == "" {
			ids[n-1] = c.ID
		}
	}
	r := u.runs[s.Name]
	defer func() { r.ids = ids }()
	create := func(n int) error {
		opts, err := createOptions(u.p, s, n, hash, id)
		if err != nil {
			return err
		}
		res, err := u.api.ContainerCreate(ctx, opts)
		if err != nil {
			return fmt.Errorf("create container %s: %w", opts.Name, err)
		}
		ids[n-1] = res.ID
		return start(ctx, u.api, res.ID, opts.Name)
	}
	for _, st := range steps {
		var err error
		switch st.Action {
		case ActionRemove:
			err = runStep(ctx, u.api, u.emit, st, StepRemove, func() error { return stopRemove(ctx, u.api, st.id) })
		case ActionRecreate:
			err = runStep(ctx, u.api, u.emit, st, StepRecreate, func() error {
				ids[st.number-1] = ""
				if err := stopRemove(ctx, u.api, st.id); err != nil {
					return err
				}
				return create(st.number)
			})
		case ActionCreate:
			err = runStep(ctx, u.api, u.emit, st, StepCreate, func() error { return create(st.number) })
		case ActionStart:
			err = runStep(ctx, u.api, u.emit, st, StepStart, func() error { return start(ctx, u.api, st.id, st.Container) })
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// runStep runs one step between its started and done (or failed) events.
func runStep(ctx context.Context, api client.APIClient, emit func(Event), st step, kind string, fn func() error) error {
	t := time.Now()
	emit(Event{Service: st.Service, Container: st.Container, Step: kind, Status: StatusStarted, Detail: st.Reason})
	err := fn()
	if err != nil {
		emit(Event{Service: st.Service, Container: st.Container, Step: kind, Status: StatusFailed, Err: err, Duration: time.Since(t)})
		return err
	}
	emit(Event{Service: st.Service, Container: st.Container, Step: kind, Status: StatusDone, Duration: time.Since(t)})
	return nil
}

func start(ctx context.Context, api client.APIClient, id, name string) error {
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start container %s: %w", name, err)
	}
	return nil
}

// stopRemove stops a container (its own stop signal and timeout), then
// removes it with its anonymous volumes.
func stopRemove(ctx context.Context, api client.APIClient, id string) error {
	if _, err := api.ContainerStop(ctx, id, client.ContainerStopOptions{}); err != nil {
		return fmt.Errorf("stop container %s: %w", short(id), err)
	}
	if _, err := api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		return fmt.Errorf("remove container %s: %w", short(id), err)
	}
	return nil
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// serialize makes progress safe to call from several goroutines (one
// call at a time); nil discards events.
func serialize(progress func(Event)) func(Event) {
	if progress == nil {
		return func(Event) {}
	}
	var mu sync.Mutex
	return func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		progress(e)
	}
}

// result reports every selected service, in name order, with its
// containers' current state.
func (u *upRun) result(ctx context.Context) Result {
	var res Result
	for _, n := range sortedServices(u.p) {
		r := u.runs[n]
		sr := ServiceResult{Name: n, Err: r.err}
		var states []string
		for _, id := range r.ids {
			if id == "" {
				continue
			}
			c, err := u.api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
			if err != nil {
				if sr.Err == nil {
					sr.Err = fmt.Errorf("inspect container %s: %w", short(id), err)
				}
				continue
			}
			sr.Containers = append(sr.Containers, strings.TrimPrefix(c.Container.Name, "/"))
			states = append(states, state(c.Container))
		}
		sr.State = leastReady(states)
		res.Services = append(res.Services, sr)
	}
	return res
}
