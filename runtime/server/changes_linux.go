package server

import (
	"net/http"

	"github.com/berthvm/berth/runtime/archive"
	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
)

// containerChanges answers GET /containers/{id}/changes (docker diff).
func (s *Server) containerChanges(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	changes, err := rt.Changes(info.Spec.ID)
	if err != nil {
		return containerError(err)
	}
	out := []ctypes.FilesystemChange{}
	for _, c := range changes {
		out = append(out, ctypes.FilesystemChange{Path: c.Path, Kind: ctypes.ChangeType(c.Kind)})
	}
	return writeJSON(w, http.StatusOK, out)
}

// exportContainer answers GET /containers/{id}/export: the container's
// files (image and changes, no volumes) as a tar stream.
func (s *Server) exportContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	root, err := rt.OpenLayers(r.Context(), info.Spec.ID)
	if err != nil {
		return containerError(err)
	}
	defer root.Close()
	w.Header().Set("Content-Type", "application/x-tar")
	w.WriteHeader(http.StatusOK)
	if err := archive.Write(r.Context(), w, root.Fd, "/", ""); err != nil {
		return err
	}
	s.containerEvent(container.Event{Action: "export", Spec: info.Spec})
	return nil
}
