package converge

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// pollEvery is how often waits look at containers again.
const pollEvery = 200 * time.Millisecond

// verdict is what one look at a container says about a wait: met, not
// yet (nil, false), or never (an error).
type verdict func(c container.InspectResponse) (bool, error)

// waitFor looks at the containers until every one meets check, one of
// them never will, or timeout passes.
func waitFor(ctx context.Context, api client.APIClient, ids []string, timeout time.Duration, check verdict) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		met := 0
		for _, id := range ids {
			if id == "" {
				continue
			}
			c, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return fmt.Errorf("inspect container %s: %w", short(id), err)
			}
			ok, err := check(c.Container)
			if err != nil {
				return fmt.Errorf("%s %w", strings.TrimPrefix(c.Container.Name, "/"), err)
			}
			if ok {
				met++
			}
		}
		if ctx.Err() == nil && met == countIDs(ids) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%s)", ErrWaitTimeout, timeout)
		case <-time.After(pollEvery):
		}
	}
}

func countIDs(ids []string) int {
	n := 0
	for _, id := range ids {
		if id != "" {
			n++
		}
	}
	return n
}

// condition is the check for a depends_on condition.
func condition(cond string) (verdict, error) {
	switch cond {
	case "", types.ServiceConditionStarted:
		return func(c container.InspectResponse) (bool, error) {
			if c.State.Running || c.State.Status == container.StateExited && c.State.ExitCode == 0 {
				return true, nil
			}
			return false, stopped(c)
		}, nil
	case types.ServiceConditionHealthy:
		return healthy, nil
	case types.ServiceConditionCompletedSuccessfully:
		return completed, nil
	}
	return nil, fmt.Errorf("depends_on condition %q: use service_started, service_healthy or service_completed_successfully", cond)
}

// healthy: running and its healthcheck says healthy.
func healthy(c container.InspectResponse) (bool, error) {
	if noHealthcheck(c) {
		return false, errors.New("has no healthcheck: service_healthy needs one (healthcheck: in the compose file or HEALTHCHECK in the image)")
	}
	if !c.State.Running && !c.State.Restarting {
		return false, stopped(c)
	}
	if c.State.Health == nil {
		return false, nil
	}
	switch c.State.Health.Status {
	case container.Healthy:
		return true, nil
	case container.Unhealthy:
		return false, fmt.Errorf("is unhealthy%s", lastCheck(c.State.Health))
	}
	return false, nil
}

// noHealthcheck: the container has no healthcheck, or it is disabled
// (its health state may show up a moment after it starts: the config
// says).
func noHealthcheck(c container.InspectResponse) bool {
	if c.Config == nil || c.Config.Healthcheck == nil {
		return true
	}
	test := c.Config.Healthcheck.Test
	return len(test) == 0 || test[0] == "NONE"
}

// completed: exited with code 0.
func completed(c container.InspectResponse) (bool, error) {
	if c.State.Running || c.State.Restarting || c.State.Status == container.StateCreated {
		return false, nil
	}
	if c.State.ExitCode != 0 {
		return false, fmt.Errorf("exited with code %d", c.State.ExitCode)
	}
	return true, nil
}

// stopped is the error for a container that should be running.
func stopped(c container.InspectResponse) error {
	if c.State.Restarting {
		return nil
	}
	if c.State.Status == container.StateExited || c.State.Status == container.StateDead {
		return fmt.Errorf("exited with code %d", c.State.ExitCode)
	}
	return nil
}

func lastCheck(h *container.Health) string {
	if h == nil || len(h.Log) == 0 {
		return ""
	}
	l := h.Log[len(h.Log)-1]
	out := strings.TrimSpace(l.Output)
	if out == "" {
		return fmt.Sprintf(" (last check exited %d)", l.ExitCode)
	}
	return fmt.Sprintf(" (last check exited %d: %s)", l.ExitCode, out)
}

// waitDependency waits until dependency dep of service meets cond.
func (u *upRun) waitDependency(ctx context.Context, service, dep, cond string, ids []string) error {
	check, err := condition(cond)
	if err != nil {
		return err
	}
	if cond == "" || cond == types.ServiceConditionStarted {
		return nil
	}
	t := time.Now()
	detail := dep + " " + strings.TrimPrefix(cond, "service_")
	u.emit(Event{Service: service, Step: StepWait, Status: StatusStarted, Detail: detail})
	if err := waitFor(ctx, u.api, ids, u.timeout, check); err != nil {
		err = fmt.Errorf("dependency %s: %w", dep, err)
		u.emit(Event{Service: service, Step: StepWait, Status: StatusFailed, Detail: detail, Err: err, Duration: time.Since(t)})
		return err
	}
	u.emit(Event{Service: service, Step: StepWait, Status: StatusDone, Detail: detail, Duration: time.Since(t)})
	return nil
}

// waitAll waits, within one timeout, until every service that came up is
// ready: running, healthy when it has a healthcheck, or exited 0 when
// another service waits for it to complete. A service that is not gets
// its error.
func (u *upRun) waitAll(ctx context.Context) {
	oneShot := map[string]bool{}
	for _, s := range u.p.Services {
		for d, dep := range s.DependsOn {
			if dep.Condition == types.ServiceConditionCompletedSuccessfully {
				oneShot[d] = true
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	var wg sync.WaitGroup
	for name, r := range u.runs {
		if r.err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.Now()
			u.emit(Event{Service: name, Step: StepWait, Status: StatusStarted, Detail: "ready"})
			check := ready
			if oneShot[name] {
				check = completed
			}
			if err := waitFor(ctx, u.api, r.ids, u.timeout, check); err != nil {
				r.err = err
				u.emit(Event{Service: name, Step: StepWait, Status: StatusFailed, Detail: "ready", Err: err, Duration: time.Since(t)})
				return
			}
			u.emit(Event{Service: name, Step: StepWait, Status: StatusDone, Detail: "ready", Duration: time.Since(t)})
		}()
	}
	wg.Wait()
}

// ready: running, and healthy when it has a healthcheck.
func ready(c container.InspectResponse) (bool, error) {
	if c.State.Health != nil {
		return healthy(c)
	}
	if c.State.Running {
		return true, nil
	}
	return false, stopped(c)
}

// state is a container's state as Status reports it: running ones with a
// healthcheck are "healthy", "unhealthy" or "starting".
func state(c container.InspectResponse) string {
	if c.State == nil {
		return ""
	}
	if c.State.Running && c.State.Health != nil {
		switch c.State.Health.Status {
		case container.Healthy, container.Unhealthy, container.Starting:
			return string(c.State.Health.Status)
		}
	}
	return string(c.State.Status)
}

// readiness orders states from least to most ready.
var readiness = map[string]int{
	"dead": 1, "exited": 2, "created": 3, "removing": 4, "paused": 5,
	"restarting": 6, "unhealthy": 7, "starting": 8, "running": 9, "healthy": 10,
}

// leastReady is the least ready of states ("" for none).
func leastReady(states []string) string {
	out := ""
	for _, s := range states {
		if out == "" || readiness[s] < readiness[out] {
			out = s
		}
	}
	return out
}
