// Package server is the agent's HTTP API: the Docker Engine API subset berth
// serves on the agent's unix socket, plus berth's own /berth/v1 endpoints.
//
// Each area (system, images, containers, ...) registers its routes in its
// own file with a method such as
//
//	func (s *Server) imageRoutes() {
//		s.handle("GET /images/json", s.listImages)
//	}
//
// listed once in routes. Handlers return an error instead of writing one;
// errors made with Errorf/WithStatus (or the errdefs classes) pick the
// status code. Every route is served with and without the /v1.XX prefix.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/runtime/events"
	"github.com/berthvm/berth/runtime/network"
)

// API versions the agent speaks (Docker 27.3 = 1.47). The docker CLI
// negotiates down to APIVersion; the first v29 clients need >= 1.44.
const (
	APIVersion    = berthapi.DockerAPIVersion
	MinAPIVersion = "1.24"
)

// DefaultSocket is where the agent listens inside a machine.
const DefaultSocket = "/run/berth/agent.sock"

// DefaultStateDir holds everything the agent keeps (images, containers).
const DefaultStateDir = "/var/lib/berth"

// Options configure a Server.
type Options struct {
	// EventsKept is how many recent events are kept for `docker events
	// --since` (events.DefaultKeep when 0).
	EventsKept int
	// Version is the agent's build version (version.Version).
	Version string
	// StateDir is the agent's state folder (DefaultStateDir in a machine,
	// a temporary folder in tests).
	StateDir string
	// Log receives debug logs of requests and errors; nil discards them.
	Log *slog.Logger
	// Bridge sets up the bridge network (bridge berth0 and the nftables
	// table ip berth in the agent's network namespace) for containers of
	// --network bridge, the default then. Without it the default is none.
	Bridge bool
	// BridgeSubnet is the bridge's IPv4 subnet; invalid (zero): the one
	// chosen before, else the first candidate clear of the machine's
	// networks (see package network).
	BridgeSubnet netip.Prefix
	// HostGateway is the address of the user's host as the machine
	// reaches it: what host.docker.internal, host.berth.internal and
	// --add-host NAME:host-gateway name in containers. Invalid (zero): the
	// gateway of the machine's default route (a NAT's host, 10.0.2.2
	// under QEMU and VirtualBox); none without a default route.
	HostGateway netip.Addr
}

// Server is the agent's API server. Make it with New.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	started time.Time
	back    *backends
	events  *events.Broker
	// hostGateway is Options.HostGateway or the one found; invalid when
	// there is none.
	hostGateway netip.Addr
	// builder runs POST /build.
	builder *buildBackend
	// publishes holds, for each container from its create to its
	// destroy, whether it publishes ports (container ID -> bool): what
	// the create events that berth's own clients ask for say (see
	// berthapi.EventsHeader).
	publishes sync.Map
}

// New makes a Server with every area's routes registered.
func New(opts Options) *Server {
	if opts.StateDir == "" {
		opts.StateDir = DefaultStateDir
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{opts: opts, log: log, mux: http.NewServeMux(), started: time.Now(), events: events.New(events.Options{Keep: opts.EventsKept})}
	s.hostGateway = opts.HostGateway
	if !s.hostGateway.IsValid() {
		gw, err := network.DefaultGateway()
		if err != nil {
			log.Info("no host gateway: containers get no host.docker.internal", "err", err)
		}
		s.hostGateway = gw
	}
	s.back = openBackends(context.Background(), opts, log, s.containerEvent, s.volumeEvent)
	s.openBuilder()
	s.routes()
	return s
}

// Handler returns the HTTP handler serving every route, for tests and for
// Serve.
func (s *Server) Handler() http.Handler {
	return s.common(s.mux)
}

// Serve answers requests on ln until ctx ends, then stops accepting, waits
// a moment for requests in flight, and returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve agent api: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		// Hijacked streams are not tracked by Shutdown; close the rest.
		_ = hs.Close()
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve agent api: %w", err)
	}
	return nil
}

// Listen makes the unix socket at path, readable and writable by its owner
// only (0600, in a 0700 folder it creates). A stale socket left by an agent
// that died is replaced; a socket another agent still answers on is not.
func Listen(path string) (net.Listener, error) {
	// The folder may exist (berth-os makes /run/berth at boot): it is
	// made root's alone all the same.
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("make agent socket folder: %w", err)
	}
	if err := os.Chmod(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("make agent socket folder private: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("listen on %s: another agent is serving there", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale agent socket: %w", err)
	}
	// The umask makes the socket 0600 from the start, with no window in
	// which another user could connect.
	ln, err := listenPrivate(path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod agent socket: %w", err)
	}
	return ln, nil
}
