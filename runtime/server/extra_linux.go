package server

// extraRoutes are the endpoints of docker cp, stats, top, pause, rename,
// diff, export, history, system df and the prunes.
func (s *Server) extraRoutes() {
	s.archiveRoutes()
	s.handle("GET /containers/{id}/stats", s.containerStats)
	s.handle("GET /containers/{id}/top", s.containerTop)
	s.handle("GET /containers/{id}/changes", s.containerChanges)
	s.handle("GET /containers/{id}/export", s.exportContainer)
	s.handle("POST /containers/prune", s.pruneContainers)
	s.handle("POST /images/prune", s.pruneImages)
	s.handle("GET /system/df", s.systemDF)
	s.handle("POST /containers/{id}/pause", s.pauseContainer)
	s.handle("POST /containers/{id}/unpause", s.unpauseContainer)
	s.handle("POST /containers/{id}/rename", s.renameContainer)
}
