package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
)

// ensureBridge makes the bridge when it is missing, gives it the gateway
// address (and no other IPv4 one) and brings it up.
func ensureBridge(cfg Config) (netlink.Link, error) {
	br, err := netlink.LinkByName(cfg.Bridge)
	var notFound netlink.LinkNotFoundError
	if errors.As(err, &notFound) {
		la := netlink.NewLinkAttrs()
		la.Name = cfg.Bridge
		if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("create bridge %s (is the bridge kernel module there?): %w", cfg.Bridge, err)
		}
		br, err = netlink.LinkByName(cfg.Bridge)
	}
	if err != nil {
		return nil, fmt.Errorf("find bridge %s: %w", cfg.Bridge, err)
	}
	if br.Type() != "bridge" {
		return nil, fmt.Errorf("%s is a %s, not a bridge: remove it or configure another bridge name", cfg.Bridge, br.Type())
	}
	want := &netlink.Addr{IPNet: ipNet(cfg.Gateway, cfg.Subnet.Bits())}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", cfg.Bridge, err)
	}
	has := false
	for _, a := range addrs {
		if a.IPNet.String() == want.IPNet.String() {
			has = true
			continue
		}
		// A subnet from an earlier configuration.
		if err := netlink.AddrDel(br, &a); err != nil {
			return nil, fmt.Errorf("remove old address %s from %s: %w", a.IPNet, cfg.Bridge, err)
		}
	}
	if !has {
		if err := netlink.AddrAdd(br, want); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("give %s the gateway address %s: %w", cfg.Bridge, want.IPNet, err)
		}
	}
	if br.Attrs().Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(br); err != nil {
			return nil, fmt.Errorf("bring %s up: %w", cfg.Bridge, err)
		}
	}
	return br, nil
}

func ipNet(a netip.Addr, bits int) *net.IPNet {
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(bits, a.BitLen())}
}

// enableForwarding turns IPv4 forwarding on in this network namespace.
func enableForwarding() error {
	const p = "/proc/sys/net/ipv4/ip_forward"
	if b, err := os.ReadFile(p); err == nil && len(b) > 0 && b[0] == '1' {
		return nil
	}
	if err := os.WriteFile(p, []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("turn on IPv4 forwarding: %w", err)
	}
	return nil
}

// machineNetworks are the IPv4 networks the machine already has:
// the subnets of its addresses and the destinations of its routes,
// leaving out the bridge's own.
func machineNetworks(bridge string) ([]netip.Prefix, error) {
	skip := -1
	if br, err := netlink.LinkByName(bridge); err == nil {
		skip = br.Attrs().Index
	}
	var out []netip.Prefix
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return nil, fmt.Errorf("list the machine's addresses: %w", err)
	}
	for _, a := range addrs {
		if a.LinkIndex == skip {
			continue
		}
		if p, ok := prefixOf(a.IPNet); ok {
			out = append(out, p)
		}
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: 0}, 0)
	if err != nil {
		return nil, fmt.Errorf("list the machine's routes: %w", err)
	}
	for _, r := range routes {
		if r.LinkIndex == skip || r.Dst == nil {
			continue
		}
		if p, ok := prefixOf(r.Dst); ok && p.Bits() > 0 {
			out = append(out, p)
		}
	}
	return out, nil
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), true
}
