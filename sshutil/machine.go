package sshutil

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/berthvm/berth/drivers"
)

// The files sshutil keeps in a machine folder (listed in machine.Files).
const (
	KeyFile        = "id_ed25519"  // the machine's client key; KeyFile+".pub" is its public half
	KnownHostsFile = "known_hosts" // the machine's pinned host key
)

// MachineHostKeys returns the pinned host key file of the machine named
// name whose folder is dir.
func MachineHostKeys(name, dir string) *HostKeys {
	return &HostKeys{Machine: name, Path: filepath.Join(dir, KnownHostsFile)}
}

// MachineKeyPath is the key berth logs in to the machine with: the
// endpoint's own key (generic machines), else the machine's KeyFile.
func MachineKeyPath(dir string, ep drivers.Endpoint) string {
	if ep.KeyPath != "" {
		return ep.KeyPath
	}
	return filepath.Join(dir, KeyFile)
}

// ForMachine returns the Target of the machine named name, whose folder is
// dir, at the endpoint its driver reports.
func ForMachine(name, dir string, ep drivers.Endpoint) (Target, error) {
	if ep.Host == "" || ep.Port <= 0 || ep.User == "" {
		return Target{}, fmt.Errorf("ssh to machine %q: its driver reports no usable endpoint (%+v)", name, ep)
	}
	key, err := LoadKey(MachineKeyPath(dir, ep))
	if err != nil {
		return Target{}, fmt.Errorf("ssh to machine %q: %w", name, err)
	}
	return Target{
		Addr:     net.JoinHostPort(ep.Host, strconv.Itoa(ep.Port)),
		User:     ep.User,
		Key:      key,
		HostKeys: MachineHostKeys(name, dir),
	}, nil
}
