package converge

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// step is a Change with what Up needs to carry it out.
type step struct {
	Change
	number int
	// id is the existing container's (remove, recreate, start).
	id string
}

// Plan says what Up would change, without changing anything: the
// containers to create, recreate (config or image changed), start
// (stopped) or remove (scaled down, orphans), services in name order.
func Plan(ctx context.Context, api client.APIClient, p *types.Project) ([]Change, error) {
	if err := checkSupported(p); err != nil {
		return nil, err
	}
	cs, err := projectContainers(ctx, api, p.Name, false)
	if err != nil {
		return nil, err
	}
	have := byService(cs)
	var out []Change
	for _, name := range sortedServices(p) {
		s := p.Services[name]
		id, err := imageID(ctx, api, imageName(p, s))
		if err != nil {
			return nil, err
		}
		steps, err := planService(p, s, id, have[name])
		if err != nil {
			return nil, err
		}
		for _, st := range steps {
			out = append(out, st.Change)
		}
	}
	for _, st := range orphans(p, have) {
		out = append(out, st.Change)
	}
	return out, nil
}

// planService compares a service's containers with what it should be:
// replicas 1..scale, each with the service's config hash and (when
// known, imageID != "") image.
func planService(p *types.Project, s types.ServiceConfig, imageID string, have []container.Summary) ([]step, error) {
	hash, err := ServiceHash(s)
	if err != nil {
		return nil, fmt.Errorf("service %s: config hash: %w", s.Name, err)
	}
	scale := s.GetScale()
	var steps []step
	kept := map[int]bool{}
	for _, c := range have {
		n := number(c)
		ch := Change{Service: s.Name, Container: name(c)}
		switch {
		case n < 1 || n > scale || kept[n]:
			ch.Action, ch.Reason = ActionRemove, fmt.Sprintf("scale is %d", scale)
		case c.Labels[LabelConfigHash] != hash:
			ch.Action, ch.Reason = ActionRecreate, "config changed"
		case imageID != "" && c.Labels[LabelImage] != "" && c.Labels[LabelImage] != imageID:
			ch.Action, ch.Reason = ActionRecreate, "image changed"
		case c.State != container.StateRunning:
			ch.Action, ch.Reason = ActionStart, string(c.State)
		}
		if n >= 1 && n <= scale {
			kept[n] = true
		}
		if ch.Action != "" {
			steps = append(steps, step{Change: ch, number: n, id: c.ID})
		}
	}
	for n := 1; n <= scale; n++ {
		if !kept[n] {
			steps = append(steps, step{Change: Change{Action: ActionCreate, Service: s.Name, Container: containerName(p, s, n), Reason: "missing"}, number: n})
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].number < steps[j].number })
	return steps, nil
}

// orphans are containers of services the project no longer has (a
// service only disabled by a profile is no orphan).
func orphans(p *types.Project, have map[string][]container.Summary) []step {
	var names []string
	for svc := range have {
		if _, ok := p.Services[svc]; ok {
			continue
		}
		if _, ok := p.DisabledServices[svc]; ok {
			continue
		}
		names = append(names, svc)
	}
	sort.Strings(names)
	var out []step
	for _, svc := range names {
		for _, c := range have[svc] {
			out = append(out, step{Change: Change{Action: ActionRemove, Service: svc, Container: name(c), Reason: "orphan: service not in the project"}, number: number(c), id: c.ID})
		}
	}
	return out
}

// imageID is the local image's ID, "" when the engine does not have it.
func imageID(ctx context.Context, api client.APIClient, ref string) (string, error) {
	res, err := api.ImageInspect(ctx, ref)
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect image %s: %w", ref, err)
	}
	return res.ID, nil
}

// checkSupported refuses what Up cannot do, before anything changes.
func checkSupported(p *types.Project) error {
	for _, name := range sortedServices(p) {
		s := p.Services[name]
		if s.Image == "" && s.Build == nil {
			return fmt.Errorf("service %s: no image (name one with image: or build: in the compose file)", name)
		}
		if len(s.VolumesFrom) > 0 {
			return fmt.Errorf("service %s: volumes_from is not supported yet: share a named volume instead", name)
		}
		if strings.HasPrefix(s.NetworkMode, "service:") || strings.HasPrefix(s.NetworkMode, "container:") {
			return fmt.Errorf("service %s: network_mode %s is not supported yet: put the services on one network instead", name, s.NetworkMode)
		}
		if s.ContainerName != "" && s.GetScale() > 1 {
			return fmt.Errorf("service %s: container_name %s cannot be shared by %d replicas: remove container_name or set scale 1", name, s.ContainerName, s.GetScale())
		}
	}
	_, err := dependencyOrder(p)
	return err
}

func sortedServices(p *types.Project) []string {
	names := make([]string, 0, len(p.Services))
	for n := range p.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// dependencyOrder lists the services so that each comes after what it
// depends on (depends_on entries naming services outside p are skipped);
// a cycle is an error naming it.
func dependencyOrder(p *types.Project) ([]string, error) {
	const (
		visiting = 1
		done     = 2
	)
	mark := map[string]int{}
	var out []string
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch mark[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("depends_on has a cycle: %v", append(path, n))
		}
		mark[n] = visiting
		s := p.Services[n]
		deps := make([]string, 0, len(s.DependsOn))
		for d := range s.DependsOn {
			if _, ok := p.Services[d]; ok {
				deps = append(deps, d)
			}
		}
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		mark[n] = done
		out = append(out, n)
		return nil
	}
	for _, n := range sortedServices(p) {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}
