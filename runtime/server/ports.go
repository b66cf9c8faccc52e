package server

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strconv"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// portsFromRequest turns -p and -P into the container's bindings. An
// empty host port, and each exposed port -P publishes, gets a free port
// of the machine.
func portsFromRequest(hc *ctypes.HostConfig, exposed map[string]struct{}, cfgExposed network.PortSet) ([]container.PortBinding, error) {
	var out []container.PortBinding
	add := func(p network.Port, b network.PortBinding) error {
		hp := 0
		if b.HostPort != "" {
			n, err := strconv.Atoi(b.HostPort)
			if err != nil {
				return Errorf(http.StatusBadRequest, "invalid host port %q for %s: give one port number", b.HostPort, p)
			}
			hp = n
		}
		if hp == 0 {
			n, err := hostport.Pick()
			if err != nil {
				return fmt.Errorf("publish %s: %w", p, err)
			}
			hp = n
		}
		ip := ""
		if b.HostIP.IsValid() {
			ip = b.HostIP.String()
		}
		out = append(out, container.PortBinding{Proto: string(p.Proto()), HostIP: ip, HostPort: hp, ContainerPort: int(p.Num())})
		return nil
	}
	keys := make([]network.Port, 0, len(hc.PortBindings))
	for p := range hc.PortBindings {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	bound := map[network.Port]bool{}
	for _, p := range keys {
		bound[p] = true
		bs := hc.PortBindings[p]
		if len(bs) == 0 {
			bs = []network.PortBinding{{}}
		}
		for _, b := range bs {
			if err := add(p, b); err != nil {
				return nil, err
			}
		}
	}
	if hc.PublishAllPorts {
		all := map[network.Port]bool{}
		for s := range exposed {
			if p, err := network.ParsePort(s); err == nil {
				all[p] = true
			}
		}
		for p := range cfgExposed {
			all[p] = true
		}
		var rest []network.Port
		for p := range all {
			if !bound[p] {
				rest = append(rest, p)
			}
		}
		sort.Slice(rest, func(i, j int) bool { return rest[i].String() < rest[j].String() })
		for _, p := range rest {
			if err := add(p, network.PortBinding{}); err != nil {
				return nil, err
			}
		}
	}
	if err := container.CheckPorts(out); err != nil {
		return nil, WithStatus(http.StatusBadRequest, err)
	}
	return out, nil
}

// portMap is the bindings as inspect shows them (HostConfig.PortBindings
// and NetworkSettings.Ports).
func portMap(ports []container.PortBinding) network.PortMap {
	m := network.PortMap{}
	for _, b := range ports {
		p, ok := network.PortFrom(uint16(b.ContainerPort), network.IPProtocol(b.Proto))
		if !ok {
			continue
		}
		ip, _ := netip.ParseAddr(b.HostIP)
		m[p] = append(m[p], network.PortBinding{HostIP: ip, HostPort: strconv.Itoa(b.HostPort)})
	}
	return m
}

// portSummaries is the bindings as ps shows them.
func portSummaries(ports []container.PortBinding) []ctypes.PortSummary {
	out := []ctypes.PortSummary{}
	for _, b := range ports {
		ip, _ := netip.ParseAddr(b.HostIP)
		if b.HostIP == "" {
			ip = netip.IPv4Unspecified()
		}
		out = append(out, ctypes.PortSummary{IP: ip, PrivatePort: uint16(b.ContainerPort), PublicPort: uint16(b.HostPort), Type: b.Proto})
	}
	return out
}
