//go:build !linux

package server

import "net/http"

func (s *Server) extraRoutes() {}

func (s *Server) imageHistory(w http.ResponseWriter, name string) error {
	return Errorf(http.StatusNotImplemented, "image history is served on Linux only")
}
