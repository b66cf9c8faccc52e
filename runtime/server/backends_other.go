//go:build !linux

package server

import (
	"context"
	"errors"
	"net/netip"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/image"
	"github.com/berthvm/berth/runtime/network"
)

type containerRuntime = any

func openContainers(ctx context.Context, dir string, images *image.Store, removed func(container.Spec), bridge *network.Network, onEvent func(container.Event)) (containerRuntime, error) {
	return nil, errors.New("containers run on Linux only")
}

func openBridge(ctx context.Context, dir string, subnet netip.Prefix) (*network.Network, error) {
	return nil, errors.New("container networks are made on Linux only")
}

func (s *Server) containerRoutes() {}

func (s *Server) volumeRoutes() {}

func (s *Server) networkRoutes() {}

func (b *backends) removedContainer(container.Spec) {}

func (b *backends) removeAnonymousVolumesLocked(container.Spec) {}

func (s *Server) containerEvent(container.Event) {}
