package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"slices"

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

// endpointSettings is NetworkSettings.Networks: the container's
// networks by name, with its address on each while it runs.
func endpointSettings(c container.Info) map[string]*network.EndpointSettings {
	refs := c.Spec.Joined()
	out := map[string]*network.EndpointSettings{}
	if len(refs) == 0 {
		if mode := networkModeOf(c.Spec); mode == container.NetworkHost || mode == container.NetworkNone {
			out[mode] = &network.EndpointSettings{NetworkID: networkID(mode)}
		}
		return out
	}
	for _, ref := range refs {
		ep := &network.EndpointSettings{NetworkID: refNetworkID(ref), Aliases: []string{}}
		if ref.IP.IsValid() {
			ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: ref.IP}
		}
		if ref.Name != container.NetworkBridge {
			// With the short id, as Docker answers API versions before
			// 1.45: docker-compose 1.29 reconnects a container without.
			ep.Aliases = append(slices.Clone(ref.Aliases), berthnet.ShortID(c.Spec.ID))
		}
		if c.State.Running() {
			if att, ok := attachmentOn(c, ref); ok {
				ep.IPAddress, ep.Gateway, ep.IPPrefixLen = att.IP, att.Gateway, att.PrefixLen
				if mac, err := parseMAC(att.MAC); err == nil {
					ep.MacAddress = mac
				}
				ep.EndpointID = c.Spec.ID
				ep.DNSNames = append(dnsNames(c.Spec), ref.Aliases...)
			}
		}
		out[ref.Name] = ep
	}
	return out
}

// refNetworkID is the id of a network a container joins: user-defined
// networks' folders are named by id.
func refNetworkID(ref container.NetworkRef) string {
	if ref.Name == container.NetworkBridge {
		return networkID(ref.Name)
	}
	return filepath.Base(ref.Dir)
}

// attachmentOn is the running container's address on network ref: what
// its monitor attached at start, else (connected since) what the
// network holds.
func attachmentOn(c container.Info, ref container.NetworkRef) (berthnet.Attachment, bool) {
	for _, att := range c.State.Networks {
		if att.Network == ref.Name {
			return att, true
		}
	}
	if att := c.State.Network; att != nil && att.Network == ref.Name {
		return *att, true
	}
	n, err := berthnet.Load(ref.Dir)
	if err != nil {
		return berthnet.Attachment{}, false
	}
	eps, _ := n.Endpoints()
	for _, e := range eps {
		if e.ContainerID == c.Spec.ID {
			cfg := n.Config()
			return berthnet.Attachment{Network: ref.Name, IP: e.IP, PrefixLen: cfg.Subnet.Bits(), Gateway: cfg.Gateway, MAC: e.MAC}, true
		}
	}
	return berthnet.Attachment{}, false
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
