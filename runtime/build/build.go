// Package build is the agent's image builder (docker build's classic
// builder): a Dockerfile parsed with BuildKit's parser, each step run on
// the container runtime or done on an overlay of the step before, its
// changes stored as a layer in the image store, and a build cache of
// step results keyed by their parent and inputs.
package build

import (
	"errors"
	"fmt"
	"io"

	"github.com/berthvm/berth/runtime/image"
	"github.com/berthvm/berth/runtime/network"
)

// BuildLabel marks the containers a build runs its RUN steps in; the
// agent removes those a killed build left behind when it starts.
const BuildLabel = "berth.build"

// Request is one build: POST /build's body and query.
type Request struct {
	// Context is the build context, a tar stream (read once, spooled to
	// disk).
	Context io.Reader
	// Dockerfile is the Dockerfile's path in the context ("Dockerfile"
	// when empty).
	Dockerfile string
	// Tags name the image (canonical or familiar names).
	Tags []string
	// BuildArgs are --build-arg values; a nil value takes the variable
	// from the environment of the client, which sent none: it is unset.
	BuildArgs map[string]*string
	// Target is the stage to stop at (the last one when empty).
	Target string
	// Labels are added to the image's labels.
	Labels map[string]string
	// NoCache runs every step again.
	NoCache bool
	// Pull fetches base images again even when the store has them.
	Pull bool
	// Quiet prints only the image ID (the client asks; the builder
	// still reports errors).
	Quiet bool
	// Platform is accepted; berth builds for the machine's platform.
	Platform string
	// NetworkMode is the RUN steps' network: bridge, host or none.
	NetworkMode string
	// ExtraHosts are added to the RUN steps' /etc/hosts.
	ExtraHosts []network.Host
	// ShmSize is the size of /dev/shm of RUN steps (0: 64 MB).
	ShmSize int64
	// Auth gives credentials for pulling base images, by registry host.
	Auth map[string]image.Auth
	// Insecure lists registries reached over plain HTTP.
	Insecure []string
}

// Output receives what a build tells its client.
type Output interface {
	// Stream is text for the client's terminal (step headers, RUN
	// output).
	Stream(text string)
	// Progress is a base image pull's progress.
	Progress(p image.Progress)
	// Aux carries the built image's ID before the closing lines.
	Aux(id string)
}

// Sentinel errors callers branch on.
var (
	// ErrBadRequest marks a build that fails on its input: the
	// Dockerfile, a path in it, an option.
	ErrBadRequest = errors.New("bad build request")
)

// badRequest wraps a message as an ErrBadRequest.
func badRequest(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }
func (e *inputError) Unwrap() error { return ErrBadRequest }

// stepError is a step that failed: its message is Docker's.
type stepError struct {
	msg  string
	code int
	err  error // why, when known (syscall.ENOSPC: the disk was full)
}

func (e *stepError) Error() string { return e.msg }
func (e *stepError) Unwrap() error { return e.err }

// ExitCode is the exit code of a failed RUN step, or 0.
func ExitCode(err error) int {
	var se *stepError
	if errors.As(err, &se) {
		return se.code
	}
	return 0
}
