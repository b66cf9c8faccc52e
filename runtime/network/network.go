package network

import (
	"fmt"
	"net/netip"
	"strings"
)

// Defaults of the network every bridge container joins.
const (
	DefaultName   = "bridge"
	DefaultBridge = "berth0"
)

// Network is a bridge network whose state lives in a folder: its
// configuration (network.json) and the endpoints of the running
// containers (endpoints.json), both changed under the folder's flock by
// the agent and the containers' monitors.
type Network struct {
	dir string
	cfg Config
}

// Config returns the network's configuration.
func (n *Network) Config() Config { return n.cfg }

// Dir returns the network's folder (what Load takes).
func (n *Network) Dir() string { return n.dir }

// Config is a bridge network: its name (what --network and inspect say),
// the Linux bridge, and the IPv4 subnet whose first address (the gateway)
// the bridge holds.
type Config struct {
	Name    string       `json:"Name"`
	Bridge  string       `json:"Bridge"`
	Subnet  netip.Prefix `json:"Subnet"`
	Gateway netip.Addr   `json:"Gateway"`
}

// withGateway fills Gateway with the subnet's first address.
func (c Config) withGateway() Config {
	c.Subnet = c.Subnet.Masked()
	c.Gateway = c.Subnet.Addr().Next()
	return c
}

// Endpoint is one container's place on the network while it runs.
type Endpoint struct {
	ContainerID string     `json:"ContainerID"`
	Name        string     `json:"Name"`
	Hostname    string     `json:"Hostname"`
	IP          netip.Addr `json:"IP"`
	MAC         string     `json:"MAC"`
	// HostsFile is the container's /etc/hosts on the machine (what its
	// monitor bind-mounts), rewritten as peers come and go.
	HostsFile string `json:"HostsFile"`
	// ExtraHosts are the container's own extra names in its hosts file
	// (--add-host, host.docker.internal); peers do not see them.
	ExtraHosts []Host `json:"ExtraHosts,omitempty"`
}

// Attachment is what a running container's inspect shows of its network.
type Attachment struct {
	Network   string     `json:"Network"`
	IP        netip.Addr `json:"IP"`
	PrefixLen int        `json:"PrefixLen"`
	Gateway   netip.Addr `json:"Gateway"`
	MAC       string     `json:"MAC"`
	// HostLink is the interface index of the machine's end of the veth
	// pair, for Unplug.
	HostLink int `json:"-"`
}

// ShortID is the 12-character form of a container id.
func ShortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// macFor is Docker's scheme: 02:42 and the IPv4 address, so a MAC
// address is unique on the bridge as long as the address is.
func macFor(ip netip.Addr) string {
	b := ip.As4()
	return fmt.Sprintf("02:42:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3])
}

// ParseSubnet reads an IPv4 subnet for the bridge: at most /30 (a
// gateway and one container) and at least /8.
func ParseSubnet(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bridge subnet %q: give an IPv4 CIDR such as 172.18.0.0/16: %w", s, err)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("bridge subnet %q: only IPv4 subnets are supported", s)
	}
	if p.Bits() < 8 || p.Bits() > 30 {
		return netip.Prefix{}, fmt.Errorf("bridge subnet %q: the prefix length must be between /8 and /30", s)
	}
	return p.Masked(), nil
}
