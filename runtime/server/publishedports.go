package server

import (
	"net/netip"

	"github.com/berthvm/berth/runtime/container"
	"github.com/moby/moby/api/types/network"
)

// publishedPorts is NetworkSettings.Ports of a running container as
// Docker 28 shows it: a binding with no host address listens on every
// IPv4 and IPv6 address, so it is told as 0.0.0.0 and :: (docker port
// prints "80/tcp -> 0.0.0.0:8080" and "80/tcp -> [::]:8080").
// HostConfig.PortBindings keeps the empty address the client gave.
func publishedPorts(ports []container.PortBinding) network.PortMap {
	m := portMap(ports)
	for p, bs := range m {
		var out []network.PortBinding
		for _, b := range bs {
			if b.HostIP.IsValid() {
				out = append(out, b)
				continue
			}
			out = append(out,
				network.PortBinding{HostIP: netip.IPv4Unspecified(), HostPort: b.HostPort},
				network.PortBinding{HostIP: netip.IPv6Unspecified(), HostPort: b.HostPort})
		}
		m[p] = out
	}
	return m
}
