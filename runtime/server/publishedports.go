package server

import (
	"net/netip"
	"strconv"

	"github.com/berthvm/berth/runtime/container"
	"github.com/moby/moby/api/types/network"
)

// publishedPorts is NetworkSettings.Ports of a running container as
// Docker 28 shows it: a binding with no host address listens on every
// IPv4 and IPv6 address, so it is told as 0.0.0.0 and :: (docker port
// prints "80/tcp -> 0.0.0.0:8080" and "80/tcp -> [::]:8080").
// HostConfig.PortBindings keeps the empty address the client gave.
func publishedPorts(ports []container.PortBinding) network.PortMap {
	m := network.PortMap{}
	for _, b := range ports {
		p, ok := network.PortFrom(uint16(b.ContainerPort), network.IPProtocol(b.Proto))
		if !ok {
			continue
		}
		hp := strconv.Itoa(b.HostPort)
		if ip, err := netip.ParseAddr(b.HostIP); err == nil {
			m[p] = append(m[p], network.PortBinding{HostIP: ip, HostPort: hp})
			continue
		}
		m[p] = append(m[p],
			network.PortBinding{HostIP: netip.IPv4Unspecified(), HostPort: hp},
			network.PortBinding{HostIP: netip.IPv6Unspecified(), HostPort: hp})
	}
	return m
}
