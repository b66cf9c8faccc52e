package server

import (
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
)

// VolumesDir is the folder of named volumes under the state folder.
const VolumesDir = "volumes"

// mountsFromRequest turns -v (Binds) and --tmpfs into the container's
// mounts. A -v source without a leading slash names a volume, created
// when missing, whose data outlives the container.
func (s *Server) mountsFromRequest(hc *ctypes.HostConfig) ([]container.Mount, error) {
	var out []container.Mount
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !path.IsAbs(parts[1]) {
			return nil, Errorf(http.StatusBadRequest, "invalid volume %q: want NAME:/PATH or /MACHINE/PATH:/PATH, with :ro or :rw", b)
		}
		m := container.Mount{Type: "bind", Source: parts[0], Target: path.Clean(parts[1])}
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				m.ReadOnly = true
			case "rw":
			default:
				return nil, Errorf(http.StatusBadRequest, "invalid volume %q: mode %q is not ro or rw", b, parts[2])
			}
		}
		if !path.IsAbs(m.Source) {
			if !container.ValidName(m.Source) {
				return nil, Errorf(http.StatusBadRequest, "invalid volume name %q: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", m.Source)
			}
			m.Name = m.Source
			m.Source = filepath.Join(s.opts.StateDir, VolumesDir, m.Name, "_data")
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return nil, fmt.Errorf("create volume %s: %w", m.Name, err)
			}
		} else if _, err := os.Stat(m.Source); err != nil {
			return nil, Errorf(http.StatusBadRequest, "bind mount source %s does not exist on the machine: %v", m.Source, err)
		}
		out = append(out, m)
	}
	for target, opts := range hc.Tmpfs {
		if !path.IsAbs(target) {
			return nil, Errorf(http.StatusBadRequest, "invalid --tmpfs %q: the target must be an absolute path", target)
		}
		out = append(out, container.Mount{Type: "tmpfs", Target: path.Clean(target), ReadOnly: strings.Contains(","+opts+",", ",ro,")})
	}
	return out, nil
}
