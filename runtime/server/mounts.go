package server

import (
	"errors"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/volume"
	ctypes "github.com/moby/moby/api/types/container"
)

// VolumesDir is the folder of named volumes under the state folder.
const VolumesDir = "volumes"

// mountsFromRequest turns -v (Binds and, for `-v /path`, Config.Volumes)
// and --tmpfs into the container's mounts. A -v source without a leading
// slash names a volume, created when missing, whose data outlives the
// container; `-v /path` and each of the image's volumes (VOLUME) not
// mounted otherwise get a new anonymous volume. An empty volume is filled
// with what the image holds at its target when the container starts
// (copyUp in the container's init). On error the
// anonymous volumes made so far are removed again. The caller holds
// s.back.volMu.
func (s *Server) mountsFromRequest(cfg *ctypes.Config, hc *ctypes.HostConfig, imageVolumes map[string]struct{}) (out []container.Mount, err error) {
	vols, err := s.volumeStore()
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.back.removeAnonymousVolumesLocked(container.Spec{Mounts: out})
			out = nil
		}
	}()
	for _, b := range hc.Binds {
		m, err := parseBind(b)
		if err != nil {
			return out, err
		}
		if !path.IsAbs(m.Source) {
			v, err := vols.Create(m.Source, nil)
			if err != nil {
				return out, volumeError(err)
			}
			m.Name, m.Source = v.Name, v.Mountpoint
		} else if _, err := os.Stat(m.Source); err != nil {
			return out, Errorf(http.StatusBadRequest, "bind mount source %s does not exist on the machine: %v", m.Source, err)
		}
		out = append(out, m)
	}
	more, err := mountsFromSpecs(hc.Mounts, vols)
	out = append(out, more...)
	if err != nil {
		return out, err
	}
	var anon []string
	for target := range cfg.Volumes {
		if !path.IsAbs(target) {
			return out, Errorf(http.StatusBadRequest, "invalid volume %q: an anonymous volume (-v /PATH) needs an absolute path", target)
		}
		anon = append(anon, path.Clean(target))
	}
	for target := range imageVolumes {
		if path.IsAbs(target) {
			anon = append(anon, path.Clean(target))
		}
	}
	slices.Sort(anon)
	anon = slices.Compact(anon)
	tmpfs := func(target string) bool {
		for t := range hc.Tmpfs {
			if path.Clean(t) == target {
				return true
			}
		}
		return false
	}
	for _, target := range anon {
		if tmpfs(target) || slices.ContainsFunc(out, func(m container.Mount) bool { return m.Target == target }) {
			continue // a -v SOURCE:/PATH or --tmpfs wins over -v /PATH or VOLUME, as in Docker
		}
		v, err := vols.Create(container.NewID(), map[string]string{volume.AnonymousLabel: ""})
		if err != nil {
			return out, volumeError(err)
		}
		out = append(out, container.Mount{Type: "bind", Source: v.Mountpoint, Target: target, Name: v.Name, Anonymous: true})
	}
	for target, opts := range hc.Tmpfs {
		if !path.IsAbs(target) {
			return out, Errorf(http.StatusBadRequest, "invalid --tmpfs %q: the target must be an absolute path", target)
		}
		out = append(out, container.Mount{Type: "tmpfs", Target: path.Clean(target), ReadOnly: strings.Contains(","+opts+",", ",ro,")})
	}
	// A mount on /a goes before one on /a/b, which would be hidden
	// otherwise (Docker sorts them the same way).
	slices.SortStableFunc(out, func(a, b container.Mount) int {
		return strings.Count(a.Target, "/") - strings.Count(b.Target, "/")
	})
	return out, nil
}

// volumeError maps the volume store's errors to Docker's status codes.
// parseBind reads one of HostConfig.Binds (-v): NAME:/PATH or
// /MACHINE/PATH:/PATH, with :ro or :rw. A NAME source is a volume's name,
// which the caller resolves.
func parseBind(b string) (container.Mount, error) {
	parts := strings.Split(b, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !path.IsAbs(parts[1]) {
		return container.Mount{}, Errorf(http.StatusBadRequest, "invalid volume %q: want NAME:/PATH or /MACHINE/PATH:/PATH, with :ro or :rw", b)
	}
	m := container.Mount{Type: "bind", Source: parts[0], Target: path.Clean(parts[1])}
	if m.Target == "/" {
		return container.Mount{}, Errorf(http.StatusBadRequest, "invalid volume %q: the container path cannot be /", b)
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			m.ReadOnly = true
		case "rw":
		default:
			return container.Mount{}, Errorf(http.StatusBadRequest, "invalid volume %q: mode %q is not ro or rw", b, parts[2])
		}
	}
	return m, nil
}

func volumeError(err error) error {
	switch {
	case errors.Is(err, volume.ErrNotFound):
		return WithStatus(http.StatusNotFound, err)
	case errors.Is(err, volume.ErrInvalidName):
		return WithStatus(http.StatusBadRequest, err)
	}
	return err
}
