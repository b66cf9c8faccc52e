package converge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// Down removes the project's containers (dependents stopped before what
// they depend on, as their com.docker.compose.depends_on labels say,
// each level in parallel) and networks; its volumes too when
// removeVolumes. It goes on past failures and returns them all.
func Down(ctx context.Context, api client.APIClient, project string, removeVolumes bool, progress func(Event)) error {
	emit := serialize(progress)
	cs, err := projectContainers(ctx, api, project, true)
	if err != nil {
		return err
	}
	var errs []error
	for _, level := range stopLevels(cs) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range level {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := step{Change: Change{Action: ActionRemove, Service: c.Labels[LabelService], Container: name(c)}, id: c.ID}
				err := runStep(ctx, api, emit, st, StepRemove, func() error { return stopRemove(ctx, api, c.ID) })
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	}

	nets, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: client.Filters{}.Add("label", LabelProject+"="+project)})
	if err != nil {
		errs = append(errs, fmt.Errorf("list the networks of project %s: %w", project, err))
	}
	for _, n := range nets.Items {
		if n.Labels[LabelProject] != project {
			continue
		}
		t := time.Now()
		emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusStarted, Detail: "remove"})
		if _, err := api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
			err = fmt.Errorf("remove network %s: %w", n.Name, err)
			errs = append(errs, err)
			emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusFailed, Detail: "remove", Err: err, Duration: time.Since(t)})
			continue
		}
		emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusDone, Detail: "remove", Duration: time.Since(t)})
	}

	if removeVolumes {
		vols, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: client.Filters{}.Add("label", LabelProject+"="+project)})
		if err != nil {
			errs = append(errs, fmt.Errorf("list the volumes of project %s: %w", project, err))
		}
		for _, v := range vols.Items {
			if v.Labels[LabelProject] != project {
				continue
			}
			t := time.Now()
			emit(Event{Step: StepVolume, Container: v.Name, Status: StatusStarted, Detail: "remove"})
			if _, err := api.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil {
				err = fmt.Errorf("remove volume %s: %w", v.Name, err)
				errs = append(errs, err)
				emit(Event{Step: StepVolume, Container: v.Name, Status: StatusFailed, Detail: "remove", Err: err, Duration: time.Since(t)})
				continue
			}
			emit(Event{Step: StepVolume, Container: v.Name, Status: StatusDone, Detail: "remove", Duration: time.Since(t)})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("down %s: %w", project, errors.Join(errs...))
	}
	return nil
}

// stopLevels orders containers for stopping: first those of services no
// other service depends on, then what they depend on, and so on (a
// cycle's services go together at the end).
func stopLevels(cs []container.Summary) [][]container.Summary {
	deps := map[string][]string{}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		for _, d := range strings.Split(c.Labels[LabelDependsOn], ",") {
			if dep, _, _ := strings.Cut(d, ":"); dep != "" {
				deps[svc] = append(deps[svc], dep)
			}
		}
	}
	left := map[string][]container.Summary{}
	for _, c := range cs {
		svc := c.Labels[LabelService]
		left[svc] = append(left[svc], c)
	}
	var levels [][]container.Summary
	for len(left) > 0 {
		needed := map[string]bool{}
		for svc := range left {
			for _, d := range deps[svc] {
				needed[d] = true
			}
		}
		var names []string
		for svc := range left {
			if !needed[svc] {
				names = append(names, svc)
			}
		}
		if len(names) == 0 {
			for svc := range left {
				names = append(names, svc)
			}
		}
		sort.Strings(names)
		var level []container.Summary
		for _, svc := range names {
			level = append(level, left[svc]...)
			delete(left, svc)
		}
		levels = append(levels, level)
	}
	return levels
}
