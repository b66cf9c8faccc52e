//go:build !linux

package server

import (
	"context"
	"errors"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
)

type containerRuntime = any

func openContainers(ctx context.Context, dir string, images *image.Store, removed func(container.Spec)) (containerRuntime, error) {
	return nil, errors.New("containers run on Linux only")
}

func (s *Server) containerRoutes() {}

func (s *Server) volumeRoutes() {}

func (b *backends) removedContainer(container.Spec) {}

func (b *backends) removeAnonymousVolumesLocked(container.Spec) {}
