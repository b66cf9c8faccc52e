package server

import (
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/api/types/system"
)

func (s *Server) systemRoutes() {
	s.handle("GET /_ping", s.ping)
	s.handle("GET /version", s.version)
	s.handle("GET /info", s.info)
}

// ping answers HEAD and GET /_ping with the headers the docker CLI
// negotiates from.
func (s *Server) ping(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Builder-Version", "1")
	h.Set("Swarm", "inactive")
	h.Set("Cache-Control", "no-cache, no-store, must-revalidate")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write([]byte("OK"))
	}
	return nil
}

func (s *Server) version(w http.ResponseWriter, r *http.Request) error {
	kernel := kernelRelease()
	details := map[string]string{
		"ApiVersion":    APIVersion,
		"MinAPIVersion": MinAPIVersion,
		"GitCommit":     s.opts.Version,
		"GoVersion":     runtime.Version(),
		"Os":            runtime.GOOS,
		"Arch":          runtime.GOARCH,
		"KernelVersion": kernel,
	}
	return writeJSON(w, http.StatusOK, system.VersionResponse{
		Platform:      system.PlatformInfo{Name: "berth"},
		Version:       s.opts.Version,
		APIVersion:    APIVersion,
		MinAPIVersion: MinAPIVersion,
		Os:            runtime.GOOS,
		Arch:          runtime.GOARCH,
		Components:    []system.ComponentVersion{{Name: "Engine", Version: s.opts.Version, Details: details}},
		GitCommit:     s.opts.Version,
		GoVersion:     runtime.Version(),
		KernelVersion: kernel,
	})
}

// info answers GET /info. Areas that keep counts (images, containers) are
// expected to fill their fields here as they land.
func (s *Server) info(w http.ResponseWriter, r *http.Request) error {
	host, _ := os.Hostname()
	cg := cgroupInfo()
	cgVersion := "1"
	if cg.v2 {
		cgVersion = "2"
	}
	return writeJSON(w, http.StatusOK, system.Info{
		ID:              host,
		Name:            host,
		Driver:          "overlay2",
		DriverStatus:    [][2]string{},
		Plugins:         system.PluginsInfo{Volume: []string{"local"}, Network: []string{"bridge", "host", "none"}, Authorization: []string{}, Log: []string{"json-file"}},
		SystemTime:      time.Now().Format(time.RFC3339Nano),
		LoggingDriver:   "json-file",
		CgroupDriver:    "cgroupfs",
		CgroupVersion:   cgVersion,
		KernelVersion:   kernelRelease(),
		OperatingSystem: osPrettyName(),
		OSType:          runtime.GOOS,
		Architecture:    unameMachine(),
		NCPU:            runtime.NumCPU(),
		MemTotal:        memTotal(),
		DockerRootDir:   s.opts.StateDir,
		ServerVersion:   s.opts.Version,
		Labels:          []string{},
		SecurityOptions: []string{},
		CDISpecDirs:     []string{},
		Runtimes:        map[string]system.RuntimeWithStatus{},
		DefaultRuntime:  "berth",
		Swarm:           swarm.Info{LocalNodeState: swarm.LocalNodeStateInactive},
		NGoroutines:     runtime.NumGoroutine(),
	})
}
