package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"

	"github.com/berthvm/berth/runtime/container"
	berthnet "github.com/berthvm/berth/runtime/network"
)

// networkModeOf is a container's network mode as inspect shows it
// (containers made before networks existed had loopback only: none).
func networkModeOf(s container.Spec) string {
	if s.NetworkMode == "" {
		return container.NetworkNone
	}
	return s.NetworkMode
}

// endpointSettings is NetworkSettings.Networks: the container's one
// network by name, with its address while it runs.
func endpointSettings(c container.Info) map[string]*network.EndpointSettings {
	mode := networkModeOf(c.Spec)
	ep := &network.EndpointSettings{NetworkID: networkID(mode)}
	if att := c.State.Network; att != nil && c.State.Running() {
		ep.IPAddress = att.IP
		ep.Gateway = att.Gateway
		ep.IPPrefixLen = att.PrefixLen
		if mac, err := net.ParseMAC(att.MAC); err == nil {
			ep.MacAddress = network.HardwareAddr(mac)
		}
		ep.EndpointID = c.Spec.ID
		ep.DNSNames = dnsNames(c.Spec)
	}
	return map[string]*network.EndpointSettings{mode: ep}
}

func dnsNames(s container.Spec) []string {
	names := []string{s.Name, berthnet.ShortID(s.ID)}
	if s.Hostname != "" && s.Hostname != names[1] {
		names = append(names, s.Hostname)
	}
	return names
}

// inspectJSON is inspect's answer with NetworkSettings' top-level
// address fields, which API versions before 1.52 (Docker 27 speaks
// 1.47) have and `docker inspect -f '{{.NetworkSettings.IPAddress}}'`
// reads; the moby types dropped them.
type inspectJSON struct {
	ctypes.InspectResponse
	NetworkSettings *legacyNetworkSettings `json:"NetworkSettings"`
}

type legacyNetworkSettings struct {
	ctypes.NetworkSettings
	Bridge      string `json:"Bridge"`
	Gateway     string `json:"Gateway"`
	IPAddress   string `json:"IPAddress"`
	IPPrefixLen int    `json:"IPPrefixLen"`
	MacAddress  string `json:"MacAddress"`
}

func withLegacyAddress(resp ctypes.InspectResponse, c container.Info) inspectJSON {
	ns := &legacyNetworkSettings{NetworkSettings: *resp.NetworkSettings}
	if ep := ns.Networks[container.NetworkBridge]; ep != nil && ep.IPAddress.IsValid() {
		ns.Gateway = ep.Gateway.String()
		ns.IPAddress = ep.IPAddress.String()
		ns.IPPrefixLen = ep.IPPrefixLen
		ns.MacAddress = net.HardwareAddr(ep.MacAddress).String()
	}
	return inspectJSON{InspectResponse: resp, NetworkSettings: ns}
}

// networkRoutes are Docker's network endpoints, read-only: the agent has
// the networks bridge (when set up), host and none, and makes no others.
func (s *Server) networkRoutes() {
	s.handle("GET /networks", s.listNetworks)
	s.handle("GET /networks/{id}", s.inspectNetwork)
	for _, p := range []string{"POST /networks/create", "DELETE /networks/{id}", "POST /networks/{id}/connect", "POST /networks/{id}/disconnect", "POST /networks/prune"} {
		s.handle(p, noNetworkChanges)
	}
}

// noNetworkChanges answers the endpoints that make, remove or change
// networks, which berth has not got (docker compose's project networks).
func noNetworkChanges(w http.ResponseWriter, r *http.Request) error {
	return Errorf(http.StatusNotImplemented, "berth has only the networks bridge, host and none: user-defined networks are not supported yet (leave out networks: in compose files, or use --network bridge|host|none)")
}

// networkID is a network's stable id (Docker's are random; these need not
// be, and stay the same across agent restarts).
func networkID(name string) string {
	sum := sha256.Sum256([]byte("berth network " + name))
	return hex.EncodeToString(sum[:])
}

// networks are the agent's networks, bridge first when there is one.
func (s *Server) networks() []network.Inspect {
	var out []network.Inspect
	mk := func(name, driver string) network.Inspect {
		return network.Inspect{
			Network: network.Network{
				Name: name, ID: networkID(name), Created: s.started.UTC(), Scope: "local", Driver: driver,
				EnableIPv4: name == container.NetworkBridge,
				IPAM:       network.IPAM{Driver: "default", Options: map[string]string{}, Config: []network.IPAMConfig{}},
				Options:    map[string]string{}, Labels: map[string]string{},
			},
			Containers: map[string]network.EndpointResource{},
		}
	}
	if b := s.back.bridge; b != nil {
		cfg := b.Config()
		n := mk(container.NetworkBridge, "bridge")
		n.IPAM.Config = []network.IPAMConfig{{Subnet: cfg.Subnet, Gateway: cfg.Gateway}}
		n.Options["com.docker.network.bridge.name"] = cfg.Bridge
		n.Options["com.docker.network.bridge.enable_ip_masquerade"] = "true"
		if fi, err := os.Stat(filepath.Join(b.Dir(), "network.json")); err == nil {
			n.Created = fi.ModTime().UTC()
		}
		out = append(out, n)
	}
	out = append(out, mk(container.NetworkHost, "host"), mk(container.NetworkNone, "null"))
	return out
}

func (s *Server) listNetworks(w http.ResponseWriter, r *http.Request) error {
	filters, err := parseNetworkFilters(r.URL.Query().Get("filters"))
	if err != nil {
		return err
	}
	out := []network.Summary{}
	for _, n := range s.networks() {
		if matchNetwork(n.Network, filters) {
			out = append(out, network.Summary{Network: n.Network})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// parseNetworkFilters reads the filters `docker network ls` sends.
func parseNetworkFilters(s string) (map[string][]string, error) {
	out := map[string][]string{}
	if s == "" {
		return out, nil
	}
	var raw map[string]map[string]bool
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, Errorf(http.StatusBadRequest, "invalid filters: %v", err)
	}
	for k, set := range raw {
		switch k {
		case "name", "id", "driver", "scope", "type", "label":
		default:
			return nil, Errorf(http.StatusBadRequest, "invalid filter %q", k)
		}
		for v := range set {
			out[k] = append(out[k], v)
		}
	}
	return out, nil
}

func matchNetwork(n network.Network, f map[string][]string) bool {
	ok := func(key string, match func(string) bool) bool {
		return len(f[key]) == 0 || slices.ContainsFunc(f[key], match)
	}
	return ok("name", func(v string) bool { return strings.Contains(n.Name, v) }) &&
		ok("id", func(v string) bool { return strings.HasPrefix(n.ID, v) }) &&
		ok("driver", func(v string) bool { return n.Driver == v }) &&
		ok("scope", func(v string) bool { return n.Scope == v }) &&
		ok("type", func(v string) bool { return v == "builtin" }) && len(f["label"]) == 0
}

func (s *Server) inspectNetwork(w http.ResponseWriter, r *http.Request) error {
	ref := r.PathValue("id")
	var found *network.Inspect
	for _, n := range s.networks() {
		if n.Name == ref || n.ID == ref || (len(ref) >= 3 && strings.HasPrefix(n.ID, ref)) {
			found = &n
			break
		}
	}
	if found == nil {
		return Errorf(http.StatusNotFound, "network %s not found", ref)
	}
	rt, err := s.containerRuntime()
	if err != nil {
		return err
	}
	for _, c := range rt.List() {
		if networkModeOf(c.Spec) != found.Name || !c.State.Running() {
			continue
		}
		ep := network.EndpointResource{Name: c.Spec.Name, EndpointID: c.Spec.ID}
		if att := c.State.Network; att != nil {
			ep.IPv4Address = netip.PrefixFrom(att.IP, att.PrefixLen)
			if mac, err := net.ParseMAC(att.MAC); err == nil {
				ep.MacAddress = network.HardwareAddr(mac)
			}
		}
		found.Containers[c.Spec.ID] = ep
	}
	return writeJSON(w, http.StatusOK, found)
}
