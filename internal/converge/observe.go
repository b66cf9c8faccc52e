package converge

import (
	"context"
	"fmt"
	"sort"
	"strconv"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// projectContainers lists the project's containers (stopped ones too);
// oneoff ones (`compose run`) only when withOneoff.
func projectContainers(ctx context.Context, api client.APIClient, project string, withOneoff bool) ([]container.Summary, error) {
	f := client.Filters{}.Add("label", LabelProject+"="+project)
	if !withOneoff {
		f = f.Add("label", LabelOneoff+"=False")
	}
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list the containers of project %s: %w", project, err)
	}
	// An engine that ignores a filter must not make Down remove others'
	// containers: check the labels again.
	var out []container.Summary
	for _, c := range res.Items {
		if c.Labels[LabelProject] != project || (!withOneoff && c.Labels[LabelOneoff] != "False") {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// byService groups containers by their service label, each group sorted
// by container number.
func byService(cs []container.Summary) map[string][]container.Summary {
	m := map[string][]container.Summary{}
	for _, c := range cs {
		s := c.Labels[LabelService]
		m[s] = append(m[s], c)
	}
	for _, l := range m {
		sort.SliceStable(l, func(i, j int) bool { return number(l[i]) < number(l[j]) })
	}
	return m
}

// number is a container's com.docker.compose.container-number (0 when
// missing or bad).
func number(c container.Summary) int {
	n, _ := strconv.Atoi(c.Labels[LabelNumber])
	return n
}

// name is a container's name without the leading slash.
func name(c container.Summary) string {
	if len(c.Names) == 0 {
		return c.ID
	}
	n := c.Names[0]
	if len(n) > 0 && n[0] == '/' {
		n = n[1:]
	}
	return n
}
