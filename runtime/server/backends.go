package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"

	"github.com/berthvm/berth/runtime/image"
)

// backends are the stores behind the API: images and containers. They are
// opened once, when the server is made; handlers answer 503 with the reason
// when one could not be opened.
type backends struct {
	images     *image.Store
	imagesErr  error
	containers containerRuntime
	ctrErr     error
}

func openBackends(ctx context.Context, stateDir string) *backends {
	b := &backends{}
	b.images, b.imagesErr = image.Open(filepath.Join(stateDir, "images"), image.Options{})
	b.containers, b.ctrErr = openContainers(ctx, filepath.Join(stateDir, "containers"), b.images)
	return b
}

// imageStore returns the image store or why it is unavailable.
func (s *Server) imageStore() (*image.Store, error) {
	if s.back.imagesErr != nil {
		return nil, Errorf(http.StatusServiceUnavailable, "image store unavailable: %v", s.back.imagesErr)
	}
	return s.back.images, nil
}

// containerRuntime returns the container runtime or why it is unavailable.
func (s *Server) containerRuntime() (containerRuntime, error) {
	if s.back.ctrErr != nil {
		return nil, Errorf(http.StatusServiceUnavailable, "container runtime unavailable: %v", s.back.ctrErr)
	}
	if s.back.containers == nil {
		return nil, fmt.Errorf("container runtime unavailable")
	}
	return s.back.containers, nil
}
