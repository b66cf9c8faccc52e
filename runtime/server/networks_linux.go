package server

import (
	"net"

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
	ep := &network.EndpointSettings{NetworkID: mode}
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
