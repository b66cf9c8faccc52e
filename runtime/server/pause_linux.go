package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/berthvm/berth/runtime/container"
)

// controlError maps the errors of pause, unpause and rename; the rest go
// to containerError.
func controlError(err error) error {
	switch {
	case errors.Is(err, container.ErrPaused), errors.Is(err, container.ErrNotPaused):
		return WithStatus(http.StatusConflict, err)
	case errors.Is(err, container.ErrSameName), errors.Is(err, container.ErrBadName):
		return WithStatus(http.StatusBadRequest, err)
	}
	return containerError(err)
}

func (s *Server) pauseContainer(w http.ResponseWriter, r *http.Request) error {
	return s.freezeOp(w, r, containerRuntime.Pause)
}

func (s *Server) unpauseContainer(w http.ResponseWriter, r *http.Request) error {
	return s.freezeOp(w, r, containerRuntime.Unpause)
}

// freezeOp runs pause or unpause on the container of the request.
func (s *Server) freezeOp(w http.ResponseWriter, r *http.Request, op func(containerRuntime, context.Context, string) error) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	if err := op(rt, r.Context(), info.Spec.ID); err != nil {
		return controlError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) renameContainer(w http.ResponseWriter, r *http.Request) error {
	rt, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		return Errorf(http.StatusBadRequest, "give the new name: ?name=")
	}
	if err := rt.Rename(r.Context(), info.Spec.ID, name); err != nil {
		return controlError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
