package server

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/berthvm/berth/runtime/container"
	berthnet "github.com/berthvm/berth/runtime/network"
)

// createNetwork is POST /networks/create: a bridge network with its own
// subnet (the one asked for, else one clear of the others).
func (s *Server) createNetwork(w http.ResponseWriter, r *http.Request) error {
	var req network.CreateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := s.checkNetworkRequest(req); err != nil {
		return err
	}
	cfg := berthnet.Config{
		Name: req.Name, ID: container.NewID(), Created: time.Now().UTC(),
		Labels: req.Labels, Options: req.Options, Internal: req.Internal, Attachable: req.Attachable,
	}
	if req.IPAM != nil && len(req.IPAM.Config) > 0 {
		c := req.IPAM.Config[0]
		cfg.Subnet, cfg.Gateway, cfg.IPRange = c.Subnet.Masked(), c.Gateway, c.IPRange
		if cfg.Subnet.IsValid() && !cfg.Subnet.Addr().Is4() {
			return Errorf(http.StatusBadRequest, "subnet %s: only IPv4 subnets are supported", cfg.Subnet)
		}
	}
	var others []netip.Prefix
	for _, n := range s.allNetworks() {
		for _, c := range n.IPAM.Config {
			others = append(others, c.Subnet)
		}
	}
	n, err := berthnet.Create(r.Context(), s.userNetworksDir(), cfg, others)
	if errors.Is(err, berthnet.ErrPoolOverlap) {
		return WithStatus(http.StatusForbidden, err)
	}
	if err != nil {
		return err
	}
	if err := s.applyNetworkRules(); err != nil {
		n.Remove(r.Context())
		s.applyNetworkRules()
		return err
	}
	s.publish(eventtypes.NetworkEventType, "create", cfg.ID, map[string]string{"name": cfg.Name, "type": "bridge"})
	return writeJSON(w, http.StatusCreated, network.CreateResponse{ID: cfg.ID})
}

// checkNetworkRequest refuses what Docker refuses: no name, a name in
// use, another driver than bridge.
func (s *Server) checkNetworkRequest(req network.CreateRequest) error {
	switch {
	case req.Name == "":
		return Errorf(http.StatusBadRequest, "network name is empty")
	case !container.ValidName(req.Name):
		return Errorf(http.StatusBadRequest, "invalid network name %q, only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", req.Name)
	case req.Name == container.NetworkBridge || req.Name == container.NetworkHost || req.Name == container.NetworkNone:
		return Errorf(http.StatusForbidden, "%s is a pre-defined network and cannot be created", req.Name)
	case req.Driver == "host" || req.Driver == "null":
		return Errorf(http.StatusForbidden, "only one instance of %q network is allowed", req.Driver)
	case req.Driver != "" && req.Driver != "bridge":
		return Errorf(http.StatusNotFound, "plugin %q not found: berth makes bridge networks only", req.Driver)
	case s.back.bridge == nil:
		return Errorf(http.StatusServiceUnavailable, "bridge networks are unavailable on this machine: use --network none or host")
	}
	for _, n := range s.allNetworks() {
		if n.Name == req.Name {
			return Errorf(http.StatusConflict, "network with name %s already exists", req.Name)
		}
	}
	return nil
}

func (s *Server) removeNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	if n.predefined {
		return Errorf(http.StatusForbidden, "%s is a pre-defined network and cannot be removed", n.Name)
	}
	if err := s.deleteNetwork(r.Context(), n); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteNetwork removes a user-defined network no running container is
// on, as Docker does.
func (s *Server) deleteNetwork(ctx context.Context, n apiNetwork) error {
	s.withContainers(&n)
	if len(n.Containers) > 0 {
		return Errorf(http.StatusForbidden, "error while removing network: network %s id %s has active endpoints", n.Name, n.ID)
	}
	ld, err := berthnet.Load(n.dir)
	if err != nil {
		return err
	}
	if err := ld.Remove(ctx); err != nil {
		return err
	}
	if err := s.applyNetworkRules(); err != nil {
		s.log.Error("network rules", "err", err)
	}
	s.publish(eventtypes.NetworkEventType, "destroy", n.ID, map[string]string{"name": n.Name, "type": "bridge"})
	return nil
}

func (s *Server) pruneNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilterJSON(r.URL.Query().Get("filters"), "label", "label!", "until")
	if err != nil {
		return err
	}
	var until time.Time
	for _, v := range f["until"] {
		if until, err = parseTimeParam(v, time.Now()); err != nil {
			return Errorf(http.StatusBadRequest, "invalid filter 'until=%s': %v", v, err)
		}
	}
	report := network.PruneReport{NetworksDeleted: []string{}}
	for _, n := range s.allNetworks() {
		if n.predefined || !matchLabels(n.Labels, f["label"], f["label!"]) || (!until.IsZero() && !n.Created.Before(until)) {
			continue
		}
		if err := s.deleteNetwork(r.Context(), n); err == nil {
			report.NetworksDeleted = append(report.NetworksDeleted, n.Name)
		}
	}
	return writeJSON(w, http.StatusOK, report)
}

func (s *Server) connectNetwork(w http.ResponseWriter, r *http.Request) error {
	var req network.ConnectRequest
	return s.changeMembership(r, &req, "connect", func(rt containerRuntime, n apiNetwork) (string, error) {
		if n.dir == "" {
			return "", Errorf(http.StatusForbidden, "container cannot be disconnected from host network or connected to host network")
		}
		ref := container.NetworkRef{Name: n.Name, Dir: n.dir}
		setEndpoint(&ref, req.EndpointConfig)
		return req.Container, rt.Connect(r.Context(), req.Container, ref)
	})
}

func (s *Server) disconnectNetwork(w http.ResponseWriter, r *http.Request) error {
	var req network.DisconnectRequest
	return s.changeMembership(r, &req, "disconnect", func(rt containerRuntime, n apiNetwork) (string, error) {
		return req.Container, rt.Disconnect(r.Context(), req.Container, n.Name)
	})
}

// changeMembership reads body, finds the network of the path, makes the
// change (which returns the container it changed) and publishes
// Docker's network event of action.
func (s *Server) changeMembership(r *http.Request, body any, action string, change func(containerRuntime, apiNetwork) (string, error)) error {
	if err := decodeJSON(r, body); err != nil {
		return err
	}
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	cref, err := change(rt, n)
	if err != nil {
		return networkChangeError(err)
	}
	if c, err := rt.Get(cref); err == nil {
		s.publish(eventtypes.NetworkEventType, action, n.ID, map[string]string{"container": c.Spec.ID, "name": n.Name, "type": n.Driver})
	}
	return nil
}

// networkChangeError maps connect's and disconnect's errors to Docker's
// status codes.
func networkChangeError(err error) error {
	switch {
	case errors.Is(err, container.ErrAlreadyConnected), errors.Is(err, container.ErrNetworkMode), errors.Is(err, container.ErrNotConnected):
		return WithStatus(http.StatusForbidden, err)
	case errors.Is(err, os.ErrNotExist):
		return WithStatus(http.StatusNotFound, err)
	}
	return containerError(err)
}
