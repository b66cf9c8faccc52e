package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"

	"github.com/berthvm/berth/runtime/image"
	"github.com/berthvm/berth/runtime/volume"
)

// backends are the stores behind the API: images, volumes and containers. They are
// opened once, when the server is made; handlers answer 503 with the reason
// when one could not be opened.
type backends struct {
	images     *image.Store
	imagesErr  error
	containers containerRuntime
	ctrErr     error
	volumes    *volume.Store
	volErr     error
	// volMu orders the volume checks of container create and volume
	// remove: a volume is not removed while a container is made on it.
	volMu sync.Mutex
}

func openBackends(ctx context.Context, stateDir string) *backends {
	b := &backends{}
	b.images, b.imagesErr = image.Open(filepath.Join(stateDir, "images"), image.Options{})
	b.volumes, b.volErr = volume.Open(filepath.Join(stateDir, VolumesDir))
	b.containers, b.ctrErr = openContainers(ctx, filepath.Join(stateDir, "containers"), b.images, b.removedContainer)
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

// volumeStore returns the volume store or why it is unavailable.
func (s *Server) volumeStore() (*volume.Store, error) {
	if s.back.volErr != nil {
		return nil, Errorf(http.StatusServiceUnavailable, "volume store unavailable: %v", s.back.volErr)
	}
	return s.back.volumes, nil
}
