//go:build !linux

package server

// buildBackend is empty where containers do not run.
type buildBackend struct{}

func (s *Server) openBuilder() {}

func (s *Server) buildRoutes() {}
