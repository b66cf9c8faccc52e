package server

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"

	"github.com/berthvm/berth/runtime/berthapi"
)

// berthRoutes are the agent's own endpoints, for what Docker's API has no
// word for.
func (s *Server) berthRoutes() {
	s.handle("GET "+berthapi.HealthPath, s.health)
	s.handle("GET "+berthapi.VersionPath, s.berthVersion)
}

func (s *Server) berthVersion(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, berthapi.Version{
		Version:    s.opts.Version,
		APIVersion: APIVersion,
		GoVersion:  runtime.Version(),
		Os:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	})
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.Health())
}

// Health reports the agent's version, uptime and what the machine offers
// for containers. Problems names what is missing.
func (s *Server) Health() berthapi.Health {
	cg := cgroupInfo()
	h := berthapi.Health{
		Version:     s.opts.Version,
		Pid:         os.Getpid(),
		Started:     s.started.UTC(),
		Uptime:      time.Since(s.started).Seconds(),
		Kernel:      kernelRelease(),
		Arch:        unameMachine(),
		CgroupV2:    cg.v2,
		Controllers: cg.controllers,
		Overlay:     overlaySupported(),
		StateDir:    s.opts.StateDir,
		Problems:    []string{},
	}
	free, total, err := diskSpace(s.opts.StateDir)
	if err != nil {
		h.Problems = append(h.Problems, fmt.Sprintf("state folder: %v", err))
	}
	h.FreeBytes, h.TotalBytes = free, total
	if !h.CgroupV2 {
		h.Problems = append(h.Problems, "cgroup v2 is not mounted at /sys/fs/cgroup")
	}
	if !h.Overlay {
		h.Problems = append(h.Problems, "the kernel has no overlay filesystem")
	}
	return h
}
