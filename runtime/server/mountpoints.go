package server

import (
	"strings"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
)

// mountPoints are a container's volumes and bind mounts as docker inspect
// and ps show them. A --tmpfs mount is shown in HostConfig.Tmpfs only, as
// Docker does.
func mountPoints(ms []container.Mount) []ctypes.MountPoint {
	out := []ctypes.MountPoint{}
	for _, m := range ms {
		mp := ctypes.MountPoint{Source: m.Source, Destination: m.Target, RW: !m.ReadOnly}
		switch {
		case m.Type == "tmpfs":
			continue
		case m.Name != "":
			mp.Type, mp.Name, mp.Driver = mount.TypeVolume, m.Name, "local"
			if !m.Anonymous {
				mp.Mode = "z"
			}
		default:
			mp.Type, mp.Propagation = mount.TypeBind, mount.PropagationRPrivate
		}
		if m.ReadOnly {
			mp.Mode = "ro"
		}
		out = append(out, mp)
	}
	return out
}

// hostConfigMounts are the -v and --tmpfs values of a container's
// HostConfig (Binds, Tmpfs), rebuilt from its mounts.
func hostConfigMounts(ms []container.Mount) (binds []string, tmpfs map[string]string) {
	for _, m := range ms {
		switch {
		case m.Type == "tmpfs":
			if tmpfs == nil {
				tmpfs = map[string]string{}
			}
			tmpfs[m.Target] = ""
			if m.ReadOnly {
				tmpfs[m.Target] = "ro"
			}
		case m.Anonymous:
		default:
			src := m.Source
			if m.Name != "" {
				src = m.Name
			}
			b := []string{src, m.Target}
			if m.ReadOnly {
				b = append(b, "ro")
			}
			binds = append(binds, strings.Join(b, ":"))
		}
	}
	return binds, tmpfs
}
