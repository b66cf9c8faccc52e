package server

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	eventtypes "github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"

	"github.com/berthvm/berth/runtime/container"
	berthnet "github.com/berthvm/berth/runtime/network"
)

// networkRoutes are Docker's network endpoints: the networks bridge,
// host and none are predefined, user-defined bridge networks are made,
// connected and removed. The backends are open by now, so the networks
// kept from before are set up again here.
func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.listNetworks)
	s.handle("GET /networks/{id}", s.inspectNetwork)
	s.handle("POST /networks/create", s.createNetwork)
	s.handle("DELETE /networks/{id}", s.removeNetwork)
	s.handle("POST /networks/{id}/connect", s.connectNetwork)
	s.handle("POST /networks/{id}/disconnect", s.disconnectNetwork)
	s.handle("POST /networks/prune", s.pruneNetworks)
	s.reopenUserNetworks()
}

// userNetworksDir keeps one folder per user-defined network, by id.
func (s *Server) userNetworksDir() string { return filepath.Join(s.opts.StateDir, "networks") }

// userNetworks are the user-defined networks, oldest first.
func (s *Server) userNetworks() []*berthnet.Network {
	nets, err := berthnet.List(s.userNetworksDir())
	if err != nil {
		s.log.Warn("list networks", "err", err)
	}
	return nets
}

// reopenUserNetworks makes the bridges of the user-defined networks
// again (after a reboot), forgets the addresses of containers that no
// longer run and writes the rules of every network.
func (s *Server) reopenUserNetworks() {
	nets := s.userNetworks()
	if len(nets) == 0 {
		return
	}
	rt, _ := s.containerRuntime()
	for _, n := range nets {
		if err := n.Setup(); err != nil {
			s.log.Error("network unavailable", "network", n.Config().Name, "err", err)
		}
		if rt != nil {
			n.Prune(func(id string) bool {
				c, err := rt.Get(id)
				return err == nil && c.State.Running()
			})
		}
	}
	if err := s.applyNetworkRules(); err != nil {
		s.log.Error("network rules", "err", err)
	}
}

// applyNetworkRules writes the NAT and isolation rules of every bridge
// network.
func (s *Server) applyNetworkRules() error {
	var cfgs []berthnet.Config
	if b := s.back.bridge; b != nil {
		cfgs = append(cfgs, b.Config())
	}
	for _, n := range s.userNetworks() {
		cfgs = append(cfgs, n.Config())
	}
	if len(cfgs) == 0 {
		return nil
	}
	return berthnet.ApplyRules(cfgs)
}

// apiNetwork is a network as the API shows it, with the folder of the
// bridge ones.
type apiNetwork struct {
	network.Inspect
	dir        string
	predefined bool
}

// allNetworks are the predefined networks then the user-defined ones.
func (s *Server) allNetworks() []apiNetwork {
	var out []apiNetwork
	for _, n := range s.networks() {
		a := apiNetwork{Inspect: n, predefined: true}
		if n.Name == container.NetworkBridge && s.back.bridge != nil {
			a.dir = s.back.bridge.Dir()
		}
		out = append(out, a)
	}
	for _, n := range s.userNetworks() {
		out = append(out, userInspect(n))
	}
	return out
}

func userInspect(n *berthnet.Network) apiNetwork {
	cfg := n.Config()
	ipam := network.IPAMConfig{Subnet: cfg.Subnet, Gateway: cfg.Gateway, IPRange: cfg.IPRange}
	opts := map[string]string{}
	for k, v := range cfg.Options {
		opts[k] = v
	}
	labels := map[string]string{}
	for k, v := range cfg.Labels {
		labels[k] = v
	}
	return apiNetwork{dir: n.Dir(), Inspect: network.Inspect{
		Network: network.Network{
			Name: cfg.Name, ID: cfg.ID, Created: cfg.Created, Scope: "local", Driver: "bridge",
			EnableIPv4: true, Internal: cfg.Internal, Attachable: cfg.Attachable,
			IPAM:    network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{ipam}},
			Options: opts, Labels: labels,
		},
		Containers: map[string]network.EndpointResource{},
	}}
}

// findNetwork finds a network as Docker does: full id, then name, then
// a unique id prefix.
func (s *Server) findNetwork(ref string) (apiNetwork, error) {
	all := s.allNetworks()
	for _, pass := range []func(apiNetwork) bool{
		func(n apiNetwork) bool { return n.ID == ref },
		func(n apiNetwork) bool { return n.Name == ref },
	} {
		for _, n := range all {
			if pass(n) {
				return n, nil
			}
		}
	}
	var found []apiNetwork
	for _, n := range all {
		if ref != "" && strings.HasPrefix(n.ID, ref) {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return apiNetwork{}, Errorf(http.StatusNotFound, "network %s not found", ref)
	}
	return apiNetwork{}, Errorf(http.StatusBadRequest, "network %s is ambiguous (%d matches found based on ID prefix)", ref, len(found))
}

// withContainers fills n.Containers with the running containers on it.
func (s *Server) withContainers(n *apiNetwork) {
	if n.dir == "" {
		return
	}
	ld, err := berthnet.Load(n.dir)
	if err != nil {
		return
	}
	eps, _ := ld.Endpoints()
	bits := ld.Config().Subnet.Bits()
	for _, e := range eps {
		ep := network.EndpointResource{Name: e.Name, EndpointID: e.ContainerID, IPv4Address: netip.PrefixFrom(e.IP, bits)}
		if mac, err := parseMAC(e.MAC); err == nil {
			ep.MacAddress = mac
		}
		n.Containers[e.ContainerID] = ep
	}
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	f, err := parseFilterJSON(r.URL.Query().Get("filters"), "name", "id", "label", "driver", "scope", "type", "dangling")
	if err != nil {
		return err
	}
	out := []network.Summary{}
	for _, n := range s.allNetworks() {
		s.withContainers(&n)
		if matchNetwork(n, f) {
			out = append(out, network.Summary{Network: n.Network})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	n, err := s.findNetwork(r.PathValue("id"))
	if err != nil {
		return err
	}
	s.withContainers(&n)
	return writeJSON(w, http.StatusOK, n.Inspect)
}

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
