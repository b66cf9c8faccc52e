package container

import (
	"errors"
	"fmt"
)

// Errors callers branch on (the API maps them to status codes).
var (
	ErrNotFound       = errors.New("no such container")
	ErrNameInUse      = errors.New("container name already in use")
	ErrRunning        = errors.New("container is running")
	ErrNotRunning     = errors.New("container is not running")
	ErrAlreadyStarted = errors.New("container already started")
)

// StartError is a failure to start a container's command; Code is the exit
// code Docker gives it (125 setup, 126 cannot invoke, 127 not found).
type StartError struct {
	Code    int
	Message string
}

func (e *StartError) Error() string { return e.Message }

func notFound(ref string) error { return fmt.Errorf("%w: %s", ErrNotFound, ref) }
