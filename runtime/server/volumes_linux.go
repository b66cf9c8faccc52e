package server

import (
	"errors"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/volume"
	vtypes "github.com/moby/moby/api/types/volume"
)

// volumeRoutes are Docker's volume endpoints (local driver only).
func (s *Server) volumeRoutes() {
	s.handle("GET /volumes", s.listVolumes)
	s.handle("POST /volumes/create", s.createVolume)
	s.handle("POST /volumes/prune", s.pruneVolumes)
	s.handle("GET /volumes/{name}", s.inspectVolume)
	s.handle("DELETE /volumes/{name}", s.removeVolume)
}

// apiVolume is v as Docker's API shows it.
func apiVolume(v volume.Volume) vtypes.Volume {
	return vtypes.Volume{
		Name:       v.Name,
		Driver:     "local",
		Mountpoint: v.Mountpoint,
		CreatedAt:  v.CreatedAt.Format(time.RFC3339),
		Labels:     v.Labels,
		Scope:      "local",
	}
}

// volumeUsers are the ids of the containers (running or not) that mount
// volume name.
func (b *backends) volumeUsers(name string) []string {
	if b.ctrErr != nil || b.containers == nil {
		return nil
	}
	var ids []string
	for _, c := range b.containers.List() {
		if slices.ContainsFunc(c.Spec.Mounts, func(m container.Mount) bool { return m.Name == name }) {
			ids = append(ids, c.Spec.ID)
		}
	}
	return ids
}

// removedContainer removes the anonymous volumes of a --rm container.
func (b *backends) removedContainer(spec container.Spec) {
	if spec.AutoRemove {
		b.removeAnonymousVolumes(spec)
	}
}

// removeAnonymousVolumes removes the anonymous volumes of spec's mounts
// (docker rm -v, --rm) that no other container uses.
func (b *backends) removeAnonymousVolumes(spec container.Spec) {
	b.volMu.Lock()
	defer b.volMu.Unlock()
	b.removeAnonymousVolumesLocked(spec)
}

// removeAnonymousVolumesLocked is removeAnonymousVolumes with b.volMu held.
func (b *backends) removeAnonymousVolumesLocked(spec container.Spec) {
	if b.volumes == nil {
		return
	}
	for _, m := range spec.Mounts {
		if !m.Anonymous || m.Name == "" {
			continue
		}
		if users := b.volumeUsers(m.Name); len(users) == 0 || (len(users) == 1 && users[0] == spec.ID) {
			b.volumes.Remove(m.Name)
		}
	}
}

func (s *Server) listVolumes(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeStore()
	if err != nil {
		return err
	}
	filters, err := parseFilterJSON(r.URL.Query().Get("filters"), "dangling", "name", "label", "driver")
	if err != nil {
		return err
	}
	list, err := vols.List()
	if err != nil {
		return err
	}
	out := vtypes.ListResponse{Volumes: []vtypes.Volume{}, Warnings: []string{}}
	for _, v := range list {
		if s.matchVolume(v, filters) {
			out.Volumes = append(out.Volumes, apiVolume(v))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) matchVolume(v volume.Volume, f map[string][]string) bool {
	each := func(key string, ok func(string) bool) bool {
		vals := f[key]
		return len(vals) == 0 || slices.ContainsFunc(vals, ok)
	}
	return each("name", func(x string) bool { return strings.Contains(v.Name, x) }) &&
		each("driver", func(x string) bool { return x == "local" }) &&
		each("label", func(x string) bool { return hasLabel(v.Labels, x) }) &&
		each("dangling", func(x string) bool {
			dangling := len(s.back.volumeUsers(v.Name)) == 0
			return dangling == (x == "1" || strings.EqualFold(x, "true"))
		})
}

// hasLabel matches a label filter "KEY" or "KEY=VALUE".
func hasLabel(labels map[string]string, filter string) bool {
	k, want, hasVal := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasVal || got == want)
}

func (s *Server) createVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeStore()
	if err != nil {
		return err
	}
	var req vtypes.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Driver != "" && req.Driver != "local" {
		return Errorf(http.StatusBadRequest, "volume driver %q is not supported by berth: use the local driver", req.Driver)
	}
	if len(req.DriverOpts) > 0 {
		return Errorf(http.StatusBadRequest, "volume driver options are not supported by berth yet: create the volume without -o/--opt")
	}
	if req.Name == "" {
		req.Name = container.NewID()
	}
	v, err := vols.Create(req.Name, req.Labels)
	if err != nil {
		return volumeError(err)
	}
	return writeJSON(w, http.StatusCreated, apiVolume(v))
}

func (s *Server) inspectVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeStore()
	if err != nil {
		return err
	}
	v, err := vols.Get(r.PathValue("name"))
	if err != nil {
		return volumeError(err)
	}
	return writeJSON(w, http.StatusOK, apiVolume(v))
}

func (s *Server) removeVolume(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeStore()
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	s.back.volMu.Lock()
	defer s.back.volMu.Unlock()
	if _, err := vols.Get(name); err != nil {
		if errors.Is(err, volume.ErrNotFound) && boolParam(r, "force") {
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		return volumeError(err)
	}
	if users := s.back.volumeUsers(name); len(users) > 0 {
		return Errorf(http.StatusConflict, "remove %s: volume is in use - [%s]", name, strings.Join(users, ", "))
	}
	if err := vols.Remove(name); err != nil {
		return volumeError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneVolumes removes the volumes no container uses: anonymous ones only,
// unless the filter all=true (Docker's rule since API 1.42; older clients
// get every unused volume removed, as before).
func (s *Server) pruneVolumes(w http.ResponseWriter, r *http.Request) error {
	vols, err := s.volumeStore()
	if err != nil {
		return err
	}
	filters, err := parseFilterJSON(r.URL.Query().Get("filters"), "all", "label")
	if err != nil {
		return err
	}
	all := slices.ContainsFunc(filters["all"], func(x string) bool { return x == "1" || strings.EqualFold(x, "true") }) ||
		compareVersions(requestVersion(r), "1.42") < 0
	s.back.volMu.Lock()
	defer s.back.volMu.Unlock()
	list, err := vols.List()
	if err != nil {
		return err
	}
	report := vtypes.PruneReport{VolumesDeleted: []string{}}
	var errs []error
	for _, v := range list {
		if !all && !v.Anonymous() {
			continue
		}
		if !slices.ContainsFunc(filters["label"], func(x string) bool { return hasLabel(v.Labels, x) }) && len(filters["label"]) > 0 {
			continue
		}
		if len(s.back.volumeUsers(v.Name)) > 0 {
			continue
		}
		size := diskUsage(v.Mountpoint)
		if err := vols.Remove(v.Name); err != nil {
			errs = append(errs, err)
			continue
		}
		report.VolumesDeleted = append(report.VolumesDeleted, v.Name)
		report.SpaceReclaimed += uint64(size)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return writeJSON(w, http.StatusOK, report)
}

// diskUsage is the size of the files under dir (0 when unreadable).
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
