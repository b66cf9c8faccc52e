package network

import (
	"errors"
	"net/netip"
)

// Candidates are the subnets tried, in order, for the default bridge when
// none is configured: Docker's default pools after its own 172.17.0.0/16
// (which a Docker on the same machine would take), then a few in 10/8.
var Candidates = func() []netip.Prefix {
	var out []netip.Prefix
	for b := 18; b <= 31; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(b), 0, 0}), 16))
	}
	for b := 89; b <= 99; b++ {
		out = append(out, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(b), 0, 0}), 16))
	}
	return out
}()

// Reserved are networks the hypervisors put machines on, avoided even
// when the machine cannot see them (its host side): QEMU user networking
// and VirtualBox NAT (10.0.2.0/24), VirtualBox host-only (192.168.56.0/21).
var Reserved = []netip.Prefix{
	netip.MustParsePrefix("10.0.2.0/24"),
	netip.MustParsePrefix("192.168.56.0/21"),
}

// ErrNoSubnet is returned when every candidate collides.
var ErrNoSubnet = errors.New("every candidate subnet for the bridge collides with the machine's networks: configure one (berth-agent serve --bridge-subnet CIDR)")

// ChooseSubnet returns the first candidate that overlaps none of used
// (the machine's addresses and routes) nor Reserved.
func ChooseSubnet(candidates, used []netip.Prefix) (netip.Prefix, error) {
	for _, c := range candidates {
		if !overlapsAny(c, used) && !overlapsAny(c, Reserved) {
			return c, nil
		}
	}
	return netip.Prefix{}, ErrNoSubnet
}

func overlapsAny(p netip.Prefix, list []netip.Prefix) bool {
	for _, q := range list {
		if q.IsValid() && q.Addr().Is4() && p.Overlaps(q) {
			return true
		}
	}
	return false
}
