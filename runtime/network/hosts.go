package network

import (
	"fmt"
	"net/netip"
	"strings"
)

// baseHosts are the lines every container's /etc/hosts starts with.
const baseHosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"

// Host is one extra name in a container's /etc/hosts (--add-host
// NAME:IP, host.docker.internal).
type Host struct {
	Name string     `json:"Name"`
	IP   netip.Addr `json:"IP"`
}

// BaseHosts is a container's /etc/hosts before it joins a network:
// localhost, then the extra hosts.
func BaseHosts(extra ...Host) []byte { return AddHosts([]byte(baseHosts), extra) }

// AddHosts appends a line for each extra host to the hosts file hosts.
func AddHosts(hosts []byte, extra []Host) []byte {
	var b strings.Builder
	b.Write(hosts)
	if len(hosts) > 0 && hosts[len(hosts)-1] != '\n' {
		b.WriteByte('\n')
	}
	for _, h := range extra {
		fmt.Fprintf(&b, "%s\t%s\n", h.IP, h.Name)
	}
	return []byte(b.String())
}

// HostsFile is self's /etc/hosts with one network: localhost, self's
// extra hosts, then the network's part (see Fragment).
func HostsFile(self Endpoint, peers []Endpoint) []byte {
	return append(BaseHosts(self.ExtraHosts...), Fragment(self, peers)...)
}

// Fragment is what one network adds to self's /etc/hosts: its own
// address under its hostname, name, short id and aliases, every peer's
// under the same names, then self's links to peers under their aliases.
func Fragment(self Endpoint, peers []Endpoint) []byte {
	var b strings.Builder
	line := func(e Endpoint) {
		names := uniq(append([]string{e.Hostname, e.Name, ShortID(e.ContainerID)}, e.Aliases...)...)
		if len(names) > 0 {
			fmt.Fprintf(&b, "%s\t%s\n", e.IP, strings.Join(names, " "))
		}
	}
	line(self)
	for _, p := range peers {
		if p.ContainerID != self.ContainerID {
			line(p)
		}
	}
	for _, l := range self.Links {
		for _, p := range peers {
			if p.Name == l.Name && p.ContainerID != self.ContainerID {
				fmt.Fprintf(&b, "%s\t%s\n", p.IP, l.Alias)
			}
		}
	}
	return []byte(b.String())
}

func uniq(names ...string) []string {
	var out []string
	for _, n := range names {
		if n == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}
