package virtualbox

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// allowedHostOnly is the range VirtualBox >= 6.1.28 allows for host-only
// networks on Linux and macOS without /etc/vbox/networks.conf.
var allowedHostOnly = netip.MustParsePrefix("192.168.56.0/21")

// hostOnlyNet is a validated --virtualbox-hostonly-cidr: the host's address
// on the adapter and the network.
type hostOnlyNet struct {
	HostIP netip.Addr
	Net    netip.Prefix
}

// parseHostOnlyCIDR validates a host-only CIDR such as 192.168.59.1/24.
func parseHostOnlyCIDR(s string) (hostOnlyNet, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return hostOnlyNet{}, fmt.Errorf("host-only CIDR %q: want an IPv4 host address with a prefix length, such as 192.168.59.1/24", s)
	}
	n := p.Masked()
	if n.Bits() < allowedHostOnly.Bits() || !allowedHostOnly.Contains(n.Addr()) {
		return hostOnlyNet{}, fmt.Errorf("host-only CIDR %q: VirtualBox 6.1.28 and newer only allow host-only networks inside %s; choose one there, such as 192.168.59.1/24", s, allowedHostOnly)
	}
	if n.Bits() > 29 {
		return hostOnlyNet{}, fmt.Errorf("host-only CIDR %q: the network is too small for a DHCP range; use a prefix of /29 or shorter", s)
	}
	if p.Addr() == n.Addr() || p.Addr() == lastAddr(n) {
		return hostOnlyNet{}, fmt.Errorf("host-only CIDR %q: %s is the network's own or broadcast address; give the host's address, such as %s", s, p.Addr(), n.Addr().Next())
	}
	return hostOnlyNet{HostIP: p.Addr(), Net: n}, nil
}

// lastAddr is the broadcast address of an IPv4 network.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// mask is the dotted netmask of a prefix (255.255.255.0).
func (h hostOnlyNet) mask() string {
	return net.IP(net.CIDRMask(h.Net.Bits(), 32)).String()
}

// dhcp is the DHCP server of the network: the server on the first address
// that is not the host's, leases in the upper half.
func (h hostOnlyNet) dhcp() dhcpConfig {
	server := h.Net.Addr().Next()
	if server == h.HostIP {
		server = server.Next()
	}
	size := uint32(1) << (32 - h.Net.Bits())
	lower := h.Net.Addr()
	for i := uint32(0); i < size/2; i++ {
		lower = lower.Next()
	}
	if lower == h.HostIP || lower == server {
		lower = lower.Next()
	}
	return dhcpConfig{ServerIP: server.String(), Mask: h.mask(), Lower: lower.String(), Upper: lastAddr(h.Net).Prev().String()}
}

// hostIface is a network interface of the host.
type hostIface struct {
	Name  string
	Up    bool
	Addrs []netip.Prefix
}

// hostIfaces lists the host's interfaces with their IPv4 networks.
func hostIfaces() ([]hostIface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list host network interfaces: %w", err)
	}
	var out []hostIface
	for _, i := range ifs {
		h := hostIface{Name: i.Name, Up: i.Flags&net.FlagUp != 0}
		addrs, err := i.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if p, err := netip.ParsePrefix(ipn.String()); err == nil && p.Addr().Is4() {
					h.Addrs = append(h.Addrs, p)
				}
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// checkCollision refuses a host-only network that overlaps a network of an
// up host interface (Wi-Fi, VPN, Docker bridge ...), a known cause of
// unreachable machines. VirtualBox's own host-only adapters (ours, by name)
// are not collisions.
func checkCollision(want hostOnlyNet, ifaces []hostIface, vboxIfs map[string]bool) error {
	for _, i := range ifaces {
		if !i.Up || vboxIfs[i.Name] {
			continue
		}
		for _, a := range i.Addrs {
			if a.Masked().Overlaps(want.Net) {
				return fmt.Errorf("host-only network %s collides with %s on host interface %s, which is up; choose another network inside %s with --virtualbox-hostonly-cidr (for example 192.168.59.1/24 or 192.168.60.1/24)",
					want.Net, a.Masked(), i.Name, allowedHostOnly)
			}
		}
	}
	return nil
}

// ensureHostOnly finds or makes the host-only adapter for h and its DHCP
// server, and returns the adapter's name.
func (d *Driver) ensureHostOnly(ctx context.Context, h hostOnlyNet) (string, error) {
	out, err := d.vbox().Run(ctx, listHostOnlyIfsArgs()...)
	if err != nil {
		return "", fmt.Errorf("list host-only adapters: %w", err)
	}
	name := ""
	for _, a := range parseHostOnlyIfs(out) {
		if a.IPAddress == h.HostIP.String() && a.NetworkMask == h.mask() {
			name = a.Name
			break
		}
	}
	if name == "" {
		out, err := d.vbox().Run(ctx, hostOnlyCreateArgs()...)
		if err != nil {
			return "", fmt.Errorf("create host-only adapter: %w", err)
		}
		name, err = parseCreatedIf(out)
		if err != nil {
			return "", err
		}
		if _, err := d.vbox().Run(ctx, hostOnlyIPConfigArgs(name, h.HostIP.String(), h.mask())...); err != nil {
			return "", fmt.Errorf("configure host-only adapter %s: %w", name, err)
		}
	}
	out, err = d.vbox().Run(ctx, listDHCPServersArgs()...)
	if err != nil {
		return "", fmt.Errorf("list DHCP servers: %w", err)
	}
	netName := "HostInterfaceNetworking-" + name
	want, verb := h.dhcp(), "add"
	for _, s := range parseDHCPServers(out) {
		if s.NetworkName == netName {
			if s.dhcpConfig == want && s.Enabled {
				return name, nil
			}
			verb = "modify"
		}
	}
	if _, err := d.vbox().Run(ctx, dhcpArgs(verb, netName, want)...); err != nil {
		return "", fmt.Errorf("set up the DHCP server of %s: %w", name, err)
	}
	return name, nil
}

// parseCreatedIf reads "Interface 'vboxnet0' was successfully created".
func parseCreatedIf(out string) (string, error) {
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, "Interface '"); ok {
			if name, _, ok := strings.Cut(rest, "'"); ok && name != "" {
				return name, nil
			}
		}
	}
	return "", fmt.Errorf("read the new host-only adapter's name from %q", strings.TrimSpace(out))
}
