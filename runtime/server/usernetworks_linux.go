package server

import (
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"

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
