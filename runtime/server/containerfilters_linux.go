package server

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
)

// containerFilters are the filters of GET /containers/json.
type containerFilters struct {
	f map[string][]string
	// before and since are the creation times of the containers the
	// before and since filters name (zero: no such filter).
	before, since time.Time
}

// parseContainerFilters reads the filters of GET /containers/json,
// finding the containers that before and since name.
func parseContainerFilters(rt containerRuntime, s string) (containerFilters, error) {
	f, err := parseFilterJSON(s, "status", "name", "id", "label", "label!", "ancestor", "network", "exited", "before", "since", "volume", "health")
	if err != nil {
		return containerFilters{}, err
	}
	cf := containerFilters{f: f}
	for _, key := range []string{"before", "since"} {
		for _, ref := range f[key] {
			c, err := rt.Get(ref)
			if err != nil {
				return containerFilters{}, Errorf(http.StatusNotFound, "no such container: %s", ref)
			}
			if key == "before" {
				cf.before = c.Spec.Created
			} else {
				cf.since = c.Spec.Created
			}
		}
	}
	for _, v := range f["exited"] {
		if _, err := strconv.Atoi(v); err != nil {
			return containerFilters{}, Errorf(http.StatusBadRequest, "invalid filter 'exited=%s'", v)
		}
	}
	return cf, nil
}

// all reports whether the filters show stopped containers without
// all=1, as Docker's status, exited, before and since do.
func (cf containerFilters) all() bool {
	for _, k := range []string{"status", "exited", "before", "since"} {
		if len(cf.f[k]) > 0 {
			return true
		}
	}
	return false
}

// match applies the filters as Docker does: values of one key are ORed,
// keys ANDed, and label (and label!) values ANDed too.
func (cf containerFilters) match(c container.Info) bool {
	f := cf.f
	any := func(key string, ok func(string) bool) bool {
		return len(f[key]) == 0 || slices.ContainsFunc(f[key], ok)
	}
	var nets []string
	for _, ref := range c.Spec.Joined() {
		nets = append(nets, ref.Name, refNetworkID(ref))
	}
	if len(nets) == 0 {
		m := networkModeOf(c.Spec)
		nets = append(nets, m, networkID(m))
	}
	return any("status", func(v string) bool { return string(c.State.Status) == v }) &&
		any("name", func(v string) bool { return matchPattern(v, "/"+c.Spec.Name) }) &&
		any("id", func(v string) bool { return matchPattern(v, c.Spec.ID) }) &&
		any("ancestor", func(v string) bool { return isAncestor(v, c.Spec) }) &&
		any("network", func(v string) bool { return slices.Contains(nets, v) }) &&
		any("exited", func(v string) bool {
			return c.State.Status == container.StatusExited && strconv.Itoa(c.State.ExitCode) == v
		}) &&
		any("volume", func(v string) bool {
			return slices.ContainsFunc(c.Spec.Mounts, func(m container.Mount) bool { return m.Name == v || m.Source == v || m.Target == v })
		}) &&
		(cf.before.IsZero() || c.Spec.Created.Before(cf.before)) &&
		(cf.since.IsZero() || c.Spec.Created.After(cf.since)) &&
		matchLabels(c.Spec.Labels, f["label"], f["label!"])
}

// isAncestor reports whether the image ref (a name, with or without its
// tag, or an id or its prefix) is the container's image.
func isAncestor(ref string, s container.Spec) bool {
	withTag := func(n string) string {
		if i := strings.LastIndex(n, ":"); i < 0 || strings.Contains(n[i:], "/") {
			return n + ":latest"
		}
		return n
	}
	id := strings.TrimPrefix(s.ImageID, "sha256:")
	short := strings.TrimPrefix(ref, "sha256:")
	return withTag(ref) == withTag(s.Image) || (len(short) >= 4 && strings.HasPrefix(id, short))
}
