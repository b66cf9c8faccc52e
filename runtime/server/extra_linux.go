package server

// extraRoutes are the endpoints of docker cp, stats, top, pause, rename,
// diff, export, history, system df and the prunes.
func (s *Server) extraRoutes() {
	s.archiveRoutes()
	s.handle("GET /containers/{id}/stats", s.containerStats)
	s.handle("GET /containers/{id}/top", s.containerTop)
	s.handle("POST /containers/{id}/pause", s.pauseContainer)
	s.handle("POST /containers/{id}/unpause", s.unpauseContainer)
	s.handle("POST /containers/{id}/rename", s.renameContainer)
}
