package server

import (
	"net"
	"slices"

	"github.com/moby/moby/api/types/network"
)

// matchNetwork applies the filters of GET /networks as Docker does:
// values of one key are ORed, keys and labels ANDed; type is custom or
// builtin; dangling=true keeps the user-defined networks no container
// is on, false the others.
func matchNetwork(n apiNetwork, f map[string][]string) bool {
	any := func(key string, match func(string) bool) bool {
		return len(f[key]) == 0 || slices.ContainsFunc(f[key], match)
	}
	typ := "custom"
	if n.predefined {
		typ = "builtin"
	}
	dangling := !n.predefined && len(n.Containers) == 0
	return any("name", func(v string) bool { return matchPattern(v, n.Name) }) &&
		any("id", func(v string) bool { return matchPattern(v, n.ID) }) &&
		any("driver", func(v string) bool { return n.Driver == v }) &&
		any("scope", func(v string) bool { return n.Scope == v }) &&
		any("type", func(v string) bool { return v == typ }) &&
		any("dangling", func(v string) bool { return (v == "true" || v == "1") == dangling }) &&
		matchLabels(n.Labels, f["label"], nil)
}

func parseMAC(s string) (network.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	return network.HardwareAddr(mac), err
}
