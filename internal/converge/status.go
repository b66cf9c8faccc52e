package converge

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/client"
)

// Status reports each service of the project that has containers on the
// engine, in name order: its containers and their least ready state; a
// service whose container exited with an error, or is unhealthy, has an
// Err saying so.
func Status(ctx context.Context, api client.APIClient, project string) ([]ServiceResult, error) {
	cs, err := projectContainers(ctx, api, project, false)
	if err != nil {
		return nil, err
	}
	groups := byService(cs)
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []ServiceResult
	for _, n := range names {
		sr := ServiceResult{Name: n}
		var states []string
		for _, c := range groups[n] {
			in, err := api.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
			if err != nil {
				return nil, fmt.Errorf("inspect container %s: %w", name(c), err)
			}
			cname := strings.TrimPrefix(in.Container.Name, "/")
			sr.Containers = append(sr.Containers, cname)
			st := state(in.Container)
			states = append(states, st)
			if sr.Err != nil {
				continue
			}
			switch {
			case st == "unhealthy":
				sr.Err = fmt.Errorf("%s is unhealthy%s", cname, lastCheck(in.Container.State.Health))
			case st == "exited" && in.Container.State.ExitCode != 0:
				sr.Err = fmt.Errorf("%s exited with code %d", cname, in.Container.State.ExitCode)
			}
		}
		sr.State = leastReady(states)
		out = append(out, sr)
	}
	return out, nil
}
