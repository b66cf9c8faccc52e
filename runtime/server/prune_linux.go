package server

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
	eventtypes "github.com/moby/moby/api/types/events"
	mobyimage "github.com/moby/moby/api/types/image"
)

// pruneContainers answers POST /containers/prune: every container that
// is not running (filter label= narrows it) is removed.
func (s *Server) pruneContainers(w http.ResponseWriter, r *http.Request) error {
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	filters, err := parseFilterJSON(r.URL.Query().Get("filters"), "label", "until")
	if err != nil {
		return err
	}
	report := ctypes.PruneReport{ContainersDeleted: []string{}}
	var errs []error
	for _, c := range rt.List() {
		if c.State.Running() {
			continue
		}
		if ls := filters["label"]; len(ls) > 0 && !slices.ContainsFunc(ls, func(x string) bool { return hasLabel(c.Spec.Labels, x) }) {
			continue
		}
		var size int64
		if dir, err := rt.ChangesDir(c.Spec.ID); err == nil {
			size = diskUsage(dir)
		}
		if err := rt.Remove(r.Context(), c.Spec.ID, false); err != nil {
			if !errors.Is(err, container.ErrRunning) {
				errs = append(errs, err)
			}
			continue
		}
		report.ContainersDeleted = append(report.ContainersDeleted, c.Spec.ID)
		report.SpaceReclaimed += uint64(size)
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.publish(eventtypes.ContainerEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)})
	return writeJSON(w, http.StatusOK, report)
}

// pruneImages answers POST /images/prune: images without a name and no
// container (with the filter dangling=false, every image no container
// uses).
func (s *Server) pruneImages(w http.ResponseWriter, r *http.Request) error {
	store, err := s.imageStore()
	if err != nil {
		return err
	}
	filters, err := parseFilterJSON(r.URL.Query().Get("filters"), "dangling", "label", "until")
	if err != nil {
		return err
	}
	danglingOnly := !slices.ContainsFunc(filters["dangling"], func(x string) bool { return x == "0" || strings.EqualFold(x, "false") })
	report := mobyimage.PruneReport{ImagesDeleted: []mobyimage.DeleteResponse{}}
	for _, im := range store.List() {
		if len(im.Users) > 0 || (danglingOnly && len(im.RepoTags) > 0) {
			continue
		}
		refs := im.RepoTags
		if len(refs) == 0 {
			refs = []string{im.ID}
		}
		for _, ref := range refs {
			del, _ := store.Remove(ref, false)
			for _, d := range del {
				report.ImagesDeleted = append(report.ImagesDeleted, mobyimage.DeleteResponse{Untagged: d.Untagged, Deleted: d.Deleted})
				if d.Deleted != "" {
					report.SpaceReclaimed += uint64(im.Size)
				}
			}
		}
	}
	s.publish(eventtypes.ImageEventType, "prune", "", map[string]string{"reclaimed": strconv.FormatUint(report.SpaceReclaimed, 10)})
	return writeJSON(w, http.StatusOK, report)
}
