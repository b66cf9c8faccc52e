//go:build !linux

package server

func (s *Server) extraRoutes() {}
