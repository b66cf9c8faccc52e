package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	"github.com/berthvm/berth/runtime/network"
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
	// bridge is set when the bridge network was asked for; netErr says
	// why it could not be set up.
	bridge *network.Network
	netErr error
}

// openBackends opens the stores; containerEvent and volumeEvent are told
// of what happens to containers and volumes. The images and volumes open
// while the bridge is set up (at boot its kernel modules may still be
// loading); the containers, which need both, come last.
func openBackends(ctx context.Context, opts Options, log *slog.Logger, containerEvent func(container.Event), volumeEvent func(action, name string)) *backends {
	b := &backends{}
	var mu sync.Mutex
	took := []any{}
	timed := func(name string, f func()) {
		began := time.Now()
		f()
		mu.Lock()
		took = append(took, name, time.Since(began).Round(time.Millisecond))
		mu.Unlock()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		timed("images", func() {
			b.images, b.imagesErr = image.Open(filepath.Join(opts.StateDir, "images"), image.Options{})
		})
		timed("volumes", func() {
			b.volumes, b.volErr = volume.Open(filepath.Join(opts.StateDir, VolumesDir), volume.OnChange(volumeEvent))
		})
	}()
	if opts.Bridge {
		timed("bridge", func() {
			b.bridge, b.netErr = openBridge(ctx, filepath.Join(opts.StateDir, "network"), opts.BridgeSubnet)
		})
		if b.netErr != nil {
			log.Error("bridge network unavailable: containers get --network none or host only", "err", b.netErr)
		} else {
			cfg := b.bridge.Config()
			log.Info("bridge network", "bridge", cfg.Bridge, "subnet", cfg.Subnet, "gateway", cfg.Gateway)
		}
	}
	wg.Wait()
	timed("containers", func() {
		b.containers, b.ctrErr = openContainers(ctx, filepath.Join(opts.StateDir, "containers"), b.images, b.removedContainer, b.bridge, containerEvent)
	})
	log.Info("stores opened", took...)
	return b
}

// networkMode is the container network mode for a create request's
// HostConfig.NetworkMode: "default" (or empty) is bridge when the agent
// was asked for the bridge network, else none; a bridge that failed to
// come up is an error that says why.
func (s *Server) networkMode(mode string) (string, error) {
	switch mode {
	case "", "default":
		if !s.opts.Bridge {
			return "none", nil
		}
		mode = "bridge"
	}
	switch mode {
	case "bridge":
		if s.back.netErr != nil {
			return "", Errorf(http.StatusServiceUnavailable, "the bridge network is unavailable on this machine (%v): use --network none or host", s.back.netErr)
		}
		if s.back.bridge == nil {
			return "", Errorf(http.StatusBadRequest, "network bridge not found: this agent runs without a bridge network (berth-agent serve --bridge=false): use --network none or host")
		}
	case "host", "none":
	default:
		return "", Errorf(http.StatusBadRequest, "network %s not found: use bridge, host or none", mode)
	}
	return mode, nil
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
