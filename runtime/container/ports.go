package container

import (
	"errors"
	"fmt"
)

// PortBinding publishes a port of a container on a port of the machine:
// the container's monitor listens on HostPort on every address of the
// machine and forwards each connection (or UDP flow) to ContainerPort on
// the container's own loopback.
type PortBinding struct {
	Proto         string `json:"Proto"`            // "tcp" or "udp"
	HostIP        string `json:"HostIP,omitempty"` // the address on the user's host, for the driver's forward
	HostPort      int    `json:"HostPort"`
	ContainerPort int    `json:"ContainerPort"`
}

// String is the binding as docker ps shows it: "127.0.0.1:8080->80/tcp".
func (b PortBinding) String() string {
	ip := b.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return fmt.Sprintf("%s:%d->%d/%s", ip, b.HostPort, b.ContainerPort, b.Proto)
}

// CheckPorts names every bad binding at once; two bindings of one
// machine port and protocol are refused too.
func CheckPorts(ports []PortBinding) error {
	var errs []error
	seen := map[string]bool{}
	for _, p := range ports {
		if p.Proto != "tcp" && p.Proto != "udp" {
			errs = append(errs, fmt.Errorf("port %d: protocol %q: want tcp or udp", p.ContainerPort, p.Proto))
		}
		if p.HostPort < 1 || p.HostPort > 65535 || p.ContainerPort < 1 || p.ContainerPort > 65535 {
			errs = append(errs, fmt.Errorf("port binding %d:%d/%s: ports must be 1 to 65535", p.HostPort, p.ContainerPort, p.Proto))
		}
		key := fmt.Sprintf("%d/%s", p.HostPort, p.Proto)
		if seen[key] {
			errs = append(errs, fmt.Errorf("machine port %s is published twice", key))
		}
		seen[key] = true
	}
	return errors.Join(errs...)
}
