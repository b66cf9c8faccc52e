package server

// extraRoutes are the endpoints of docker cp, stats, top, pause, rename,
// diff, export, history, system df and the prunes.
func (s *Server) extraRoutes() {
	s.archiveRoutes()
}
