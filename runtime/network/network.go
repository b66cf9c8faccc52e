package network

import (
	"fmt"
	"net/netip"
	"strings"
	"time"
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

	// The rest is for user-defined networks (docker network create);
	// the default bridge has none of it.
	ID         string            `json:"ID,omitempty"`
	Created    time.Time         `json:"Created,omitzero"`
	Labels     map[string]string `json:"Labels,omitempty"`
	Options    map[string]string `json:"Options,omitempty"`
	Internal   bool              `json:"Internal,omitempty"`
	Attachable bool              `json:"Attachable,omitempty"`
	// IPRange is where container addresses come from (the subnet when
	// unset).
	IPRange netip.Prefix `json:"IPRange,omitzero"`
}

// withGateway fills Gateway, when unset, with the subnet's first address.
func (c Config) withGateway() Config {
	c.Subnet = c.Subnet.Masked()
	if !c.Gateway.IsValid() || !c.Subnet.Contains(c.Gateway) {
		c.Gateway = c.Subnet.Addr().Next()
	}
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
	// Aliases are more names of the container on this network (compose's
	// service names, --network-alias); peers resolve them.
	Aliases []string `json:"Aliases,omitempty"`
	// Links are the container's links (--link NAME:ALIAS): ALIAS
	// resolves, for this container only, to NAME's address.
	Links []Link `json:"Links,omitempty"`
}

// Link is one --link: the container Name seen as Alias.
type Link struct {
	Name  string `json:"Name"`
	Alias string `json:"Alias"`
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
	// Dir is the network's folder, for Unplug.
	Dir string `json:"Dir,omitempty"`
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
