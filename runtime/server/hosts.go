package server

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"

	"github.com/berthvm/berth/runtime/network"
)

// HostGatewayNames are the names every container's /etc/hosts gives the
// user's host (Options.HostGateway).
var HostGatewayNames = []string{"host.docker.internal", "host.berth.internal"}

// extraHosts are a new container's extra /etc/hosts lines: the
// request's HostConfig.ExtraHosts (NAME:IP, docker run --add-host; IP
// host-gateway is the user's host), then HostGatewayNames unless the
// request names them.
func (s *Server) extraHosts(given []string) ([]network.Host, error) {
	var out []network.Host
	for _, h := range given {
		name, ip, ok := strings.Cut(h, ":")
		if !ok || name == "" || ip == "" {
			return nil, Errorf(http.StatusBadRequest, "invalid extra host %q: want NAME:IP", h)
		}
		var addr netip.Addr
		if ip == "host-gateway" {
			if !s.hostGateway.IsValid() {
				return nil, Errorf(http.StatusBadRequest, "unable to derive the IP value for host-gateway: this machine has no default route (berth-agent serve --host-gateway IP sets it)")
			}
			addr = s.hostGateway
		} else {
			var err error
			if addr, err = netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]")); err != nil {
				return nil, Errorf(http.StatusBadRequest, "invalid IP address in add-host: %q", ip)
			}
		}
		out = append(out, network.Host{Name: name, IP: addr})
	}
	if s.hostGateway.IsValid() {
		for _, n := range HostGatewayNames {
			if !slices.ContainsFunc(out, func(h network.Host) bool { return h.Name == n }) {
				out = append(out, network.Host{Name: n, IP: s.hostGateway})
			}
		}
	}
	return out, nil
}
