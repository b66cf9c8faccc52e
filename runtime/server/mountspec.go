package server

import (
	"fmt"
	"net/http"
	"os"
	"path"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/volume"
	"github.com/moby/moby/api/types/mount"
)

// mountsFromSpecs turns HostConfig.Mounts (--mount, compose v2+) into the
// container's mounts: bind, volume (named, or anonymous without a
// source; VolumeOptions NoCopy and Labels) and tmpfs (TmpfsOptions size
// and mode). Other types are refused by name.
func mountsFromSpecs(specs []mount.Mount, vols *volume.Store) ([]container.Mount, error) {
	var out []container.Mount
	for i, ms := range specs {
		bad := func(format string, a ...any) error {
			return Errorf(http.StatusBadRequest, "invalid Mounts[%d] (%s %s): %s", i, ms.Type, ms.Target, fmt.Sprintf(format, a...))
		}
		if !path.IsAbs(ms.Target) {
			return out, bad("the target must be an absolute path")
		}
		m := container.Mount{Target: path.Clean(ms.Target), ReadOnly: ms.ReadOnly}
		switch ms.Type {
		case mount.TypeBind:
			if !path.IsAbs(ms.Source) {
				return out, bad("a bind mount's source must be an absolute path")
			}
			if o := ms.BindOptions; o != nil && (o.Propagation != "" && o.Propagation != mount.PropagationRPrivate || o.NonRecursive || o.ReadOnlyNonRecursive) {
				return out, bad("BindOptions propagation and non-recursive mounts are not supported by berth")
			}
			if _, err := os.Stat(ms.Source); err != nil {
				if ms.BindOptions == nil || !ms.BindOptions.CreateMountpoint {
					return out, bad("bind source path does not exist: %s", ms.Source)
				}
				if err := os.MkdirAll(ms.Source, 0o755); err != nil {
					return out, bad("create bind source: %v", err)
				}
			}
			m.Type, m.Source = "bind", ms.Source
		case mount.TypeVolume:
			var labels map[string]string
			if o := ms.VolumeOptions; o != nil {
				if o.DriverConfig != nil && o.DriverConfig.Name != "" && o.DriverConfig.Name != "local" {
					return out, bad("volume driver %q is not supported by berth: use the local driver", o.DriverConfig.Name)
				}
				if o.Subpath != "" {
					return out, bad("VolumeOptions.Subpath is not supported by berth")
				}
				if o.DriverConfig != nil && len(o.DriverConfig.Options) > 0 {
					return out, bad("volume driver options are not supported by berth yet")
				}
				labels, m.NoCopy = o.Labels, o.NoCopy
			}
			name := ms.Source
			if name == "" {
				name, m.Anonymous = container.NewID(), true
				labels = map[string]string{volume.AnonymousLabel: ""}
			}
			v, err := vols.Create(name, labels)
			if err != nil {
				return out, volumeError(err)
			}
			m.Type, m.Name, m.Source = "bind", v.Name, v.Mountpoint
		case mount.TypeTmpfs:
			if ms.Source != "" {
				return out, bad("a tmpfs mount takes no source")
			}
			if ms.TmpfsOptions != nil && len(ms.TmpfsOptions.Options) > 0 {
				return out, bad("TmpfsOptions.Options are not supported by berth: use size and mode")
			}
			m.Type, m.Data = "tmpfs", tmpfsData(ms.TmpfsOptions)
		default:
			return out, bad("mount type %q is not supported by berth: use bind, volume or tmpfs", ms.Type)
		}
		out = append(out, m)
	}
	return out, nil
}

// tmpfsData is the tmpfs mount data of TmpfsOptions (Docker's default
// mode is 1777).
func tmpfsData(o *mount.TmpfsOptions) string {
	mode := os.FileMode(0o1777)
	data := ""
	if o != nil {
		if o.Mode != 0 {
			mode = o.Mode
		}
		if o.SizeBytes > 0 {
			data = fmt.Sprintf(",size=%d", o.SizeBytes)
		}
	}
	bits := uint32(mode) & 0o7777
	if mode&os.ModeSticky != 0 {
		bits |= 0o1000
	}
	return fmt.Sprintf("mode=%o", bits) + data
}
