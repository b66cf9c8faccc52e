package container

import (
	"errors"
	"net/netip"
)

// NetworkRef is one network a container joins at each start: its name,
// its folder, the container's aliases on it and the address it asks
// for (--ip), if any.
type NetworkRef struct {
	Name    string     `json:"Name"`
	Dir     string     `json:"Dir"`
	Aliases []string   `json:"Aliases,omitempty"`
	IP      netip.Addr `json:"IP,omitzero"`
}

// Errors of connect and disconnect.
var (
	ErrAlreadyConnected = errors.New("container is already connected to the network")
	ErrNotConnected     = errors.New("container is not connected to the network")
	ErrNetworkMode      = errors.New("container's network mode does not allow other networks")
)

// Joined are the networks the container joins at start, the first
// holding its default route: Networks, or for a bridge container made
// before there were others the bridge in NetworkDir.
func (s Spec) Joined() []NetworkRef {
	if len(s.Networks) > 0 {
		return s.Networks
	}
	if s.NetworkMode == NetworkBridge && s.NetworkDir != "" {
		return []NetworkRef{{Name: NetworkBridge, Dir: s.NetworkDir}}
	}
	return nil
}
