package container

import (
	"path"
	"strings"
)

// MountAt finds the volume or bind mount that holds the container path
// p (the deepest one, by its target; tmpfs mounts hold nothing while the
// container is stopped) and returns it with p relative to its source,
// keeping a trailing "/" or "/.". A path reached through a symlink of
// the image is not found: it is matched by name only.
func MountAt(mounts []Mount, p string) (Mount, string, bool) {
	c := path.Clean("/" + p)
	var best Mount
	found := false
	for _, m := range mounts {
		t := path.Clean("/" + m.Target)
		if m.Type == "tmpfs" || !(c == t || strings.HasPrefix(c, t+"/")) {
			continue
		}
		if !found || len(t) > len(path.Clean("/"+best.Target)) {
			best, found = m, true
		}
	}
	if !found {
		return Mount{}, "", false
	}
	rel := "/" + strings.TrimPrefix(strings.TrimPrefix(c, path.Clean("/"+best.Target)), "/")
	switch {
	case strings.HasSuffix(p, "/.") && rel == "/":
		rel = "/."
	case strings.HasSuffix(p, "/.") && c != "/":
		rel += "/."
	case strings.HasSuffix(p, "/") && rel != "/":
		rel += "/"
	}
	return best, rel, true
}
