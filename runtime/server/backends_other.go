//go:build !linux

package server

import (
	"context"
	"errors"
)

type containerRuntime = any

func openContainers(ctx context.Context, dir string) (containerRuntime, error) {
	return nil, errors.New("containers run on Linux only")
}

func (s *Server) containerRoutes() {}
