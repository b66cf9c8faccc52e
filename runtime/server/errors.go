package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/common"
)

// statusError carries the HTTP status an error is answered with.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// Errorf makes an error answered with status, e.g.
// Errorf(http.StatusNotFound, "no such image: %s", name).
func Errorf(status int, format string, a ...any) error {
	return &statusError{status: status, err: fmt.Errorf(format, a...)}
}

// WithStatus makes err answered with status. A nil err stays nil.
func WithStatus(status int, err error) error {
	if err == nil {
		return nil
	}
	return &statusError{status: status, err: err}
}

// statusOf picks the status for err: the one given with Errorf/WithStatus,
// else the errdefs class (cerrdefs.ErrNotFound and friends), else 500.
func statusOf(err error) int {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.status
	case cerrdefs.IsNotFound(err):
		return http.StatusNotFound
	case cerrdefs.IsInvalidArgument(err):
		return http.StatusBadRequest
	case cerrdefs.IsConflict(err), cerrdefs.IsAlreadyExists(err):
		return http.StatusConflict
	case cerrdefs.IsNotModified(err):
		return http.StatusNotModified
	case cerrdefs.IsUnauthorized(err):
		return http.StatusUnauthorized
	case cerrdefs.IsPermissionDenied(err):
		return http.StatusForbidden
	case cerrdefs.IsUnavailable(err):
		return http.StatusServiceUnavailable
	case cerrdefs.IsNotImplemented(err):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// writeError answers err as Docker does: JSON {"message": ...} with the
// status from statusOf (304 has no body).
func writeError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, common.ErrorResponse{Message: err.Error()})
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return fmt.Errorf("write json answer: %w", err)
	}
	return nil
}

// decodeJSON reads r's body into v; a bad body is a 400.
func decodeJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return Errorf(http.StatusBadRequest, "read request body: %v", err)
	}
	return nil
}
