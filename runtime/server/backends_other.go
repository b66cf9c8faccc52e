//go:build !linux

package server

import (
	"context"
	"errors"

	"github.com/berthvm/berth/runtime/image"
)

type containerRuntime = any

func openContainers(ctx context.Context, dir string, images *image.Store) (containerRuntime, error) {
	return nil, errors.New("containers run on Linux only")
}

func (s *Server) containerRoutes() {}
