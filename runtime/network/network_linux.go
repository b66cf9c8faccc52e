package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
)

// Open sets up the bridge network kept in dir, for the agent at start:
// the subnet is want.Subnet when given, else the one chosen earlier, else
// the first of Candidates that collides with none of the machine's
// networks. It makes the bridge, turns IPv4 forwarding on and writes the
// NAT table, all idempotently.
func Open(ctx context.Context, dir string, want Config) (*Network, error) {
	if want.Name == "" {
		want.Name = DefaultName
	}
	if want.Bridge == "" {
		want.Bridge = DefaultBridge
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create network folder: %w", err)
	}
	n := &Network{dir: dir}
	err := locked(dir, func() error {
		var saved Config
		err := readStore(filepath.Join(dir, configFile), &saved)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		cfg := want
		switch {
		case want.Subnet.IsValid():
		case saved.Subnet.IsValid() && saved.Bridge == want.Bridge:
			cfg.Subnet = saved.Subnet
		default:
			used, err := machineNetworks(want.Bridge)
			if err != nil {
				return err
			}
			if cfg.Subnet, err = ChooseSubnet(Candidates, used); err != nil {
				return err
			}
		}
		n.cfg = cfg.withGateway()
		if !reflect.DeepEqual(n.cfg, saved) {
			if err := writeStore(filepath.Join(dir, configFile), n.cfg); err != nil {
				return err
			}
			// Addresses of another subnet are of no use any more.
			if err := n.dropOutside(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open network %s: %w", want.Name, err)
	}
	if err := n.setup(ctx); err != nil {
		return nil, fmt.Errorf("set up network %s: %w", n.cfg.Name, err)
	}
	return n, nil
}

// setup makes the machine's side of the network: bridge, forwarding, NAT.
func (n *Network) setup(ctx context.Context) error {
	ensureModules(ctx)
	if _, err := ensureBridge(n.cfg); err != nil {
		return err
	}
	if err := enableForwarding(); err != nil {
		return err
	}
	return setupNAT(n.cfg)
}

// Load reads the network kept in dir, as Open left it (for a container's
// monitor, which does not set the machine up again).
func Load(dir string) (*Network, error) {
	n := &Network{dir: dir}
	if err := readStore(filepath.Join(dir, configFile), &n.cfg); err != nil {
		return nil, fmt.Errorf("load network from %s (the agent sets it up at start): %w", dir, err)
	}
	return n, nil
}

func (n *Network) dropOutside() error {
	eps, err := n.loadEndpoints()
	if err != nil {
		return err
	}
	for id, e := range eps.Endpoints {
		if !n.cfg.Subnet.Contains(e.IP) {
			delete(eps.Endpoints, id)
		}
	}
	return n.saveEndpoints(eps)
}

// Attach gives container ep (ContainerID, Name, Hostname, HostsFile) an
// address and plugs the network namespace of process pid into the
// bridge: a veth pair whose container end is eth0 with the address and
// a default route through the gateway. Then every hosts file on the
// network is rewritten. A container attached already keeps its address;
// ep.IP, when set, is the address asked for (--ip).
func (n *Network) Attach(ctx context.Context, ep Endpoint, pid int) (Attachment, error) {
	var hostLink int
	err := locked(n.dir, func() error {
		eps, err := n.loadEndpoints()
		if err != nil {
			return err
		}
		n.dropStale(&eps)
		old, ok := eps.Endpoints[ep.ContainerID]
		switch {
		case ep.IP.IsValid():
			if err := n.checkAddr(eps, ep); err != nil {
				return err
			}
		case ok && n.cfg.Subnet.Contains(old.IP):
			ep.IP = old.IP
		default:
			if ep.IP, err = n.freeAddr(eps); err != nil {
				return err
			}
		}
		ep.MAC = macFor(ep.IP)
		if hostLink, err = n.plug(ep, pid); err != nil {
			return err
		}
		eps.Endpoints[ep.ContainerID] = ep
		if err := n.saveEndpoints(eps); err != nil {
			n.unplug(ep.ContainerID, 0)
			return err
		}
		n.writeHosts(eps)
		return nil
	})
	if err != nil {
		return Attachment{}, fmt.Errorf("attach container %s to network %s: %w", ep.Name, n.cfg.Name, err)
	}
	return Attachment{Network: n.cfg.Name, IP: ep.IP, PrefixLen: n.cfg.Subnet.Bits(), Gateway: n.cfg.Gateway, MAC: ep.MAC, HostLink: hostLink, Dir: n.dir}, nil
}

// Detach releases the container's address (Docker frees it at stop too)
// and rewrites the other hosts files. Detaching a container that is not
// attached does nothing. The veth pair goes with the container's network
// namespace, or with Unplug.
func (n *Network) Detach(ctx context.Context, containerID string) error {
	err := locked(n.dir, func() error {
		eps, err := n.loadEndpoints()
		if err != nil {
			return err
		}
		old, ok := eps.Endpoints[containerID]
		if !ok {
			return nil
		}
		delete(eps.Endpoints, containerID)
		n.writeContainerHosts(old, nil)
		if err := n.saveEndpoints(eps); err != nil {
			return err
		}
		n.writeHosts(eps)
		return nil
	})
	if err != nil {
		return fmt.Errorf("detach container %s from network %s: %w", ShortID(containerID), n.cfg.Name, err)
	}
	return nil
}

// Prune releases the addresses of containers for which running is false
// (the agent at start: a monitor that died could not detach).
func (n *Network) Prune(running func(containerID string) bool) error {
	return locked(n.dir, func() error {
		eps, err := n.loadEndpoints()
		if err != nil {
			return err
		}
		changed := false
		for id := range eps.Endpoints {
			if !running(id) {
				n.unplug(id, 0)
				n.writeContainerHosts(eps.Endpoints[id], nil)
				delete(eps.Endpoints, id)
				changed = true
			}
		}
		if !changed {
			return nil
		}
		if err := n.saveEndpoints(eps); err != nil {
			return err
		}
		n.writeHosts(eps)
		return nil
	})
}

// Endpoints lists the network's endpoints, ordered by address.
func (n *Network) Endpoints() ([]Endpoint, error) {
	var out []Endpoint
	err := locked(n.dir, func() error {
		eps, err := n.loadEndpoints()
		for _, e := range eps.Endpoints {
			out = append(out, e)
		}
		return err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].IP.Less(out[j].IP) })
	return out, err
}

// dropStale forgets endpoints whose container folder is gone.
func (n *Network) dropStale(eps *endpoints) {
	for id, e := range eps.Endpoints {
		if _, err := os.Stat(e.HostsFile); errors.Is(err, os.ErrNotExist) {
			n.unplug(id, 0)
			delete(eps.Endpoints, id)
		}
	}
}

// ErrAddrInUse is returned by Attach for an address asked for that
// another container has.
var ErrAddrInUse = errors.New("address already in use")

// checkAddr refuses the address ep asks for when it is outside the
// subnet, the subnet's own, the gateway's, the broadcast address or
// another container's.
func (n *Network) checkAddr(eps endpoints, ep Endpoint) error {
	a, sub := ep.IP, n.cfg.Subnet
	if !sub.Contains(a) || a == sub.Addr() || a == n.cfg.Gateway || !sub.Contains(a.Next()) {
		return fmt.Errorf("address %s is not free in subnet %s", a, sub)
	}
	for id, e := range eps.Endpoints {
		if e.IP == a && id != ep.ContainerID {
			return fmt.Errorf("%w: %s has %s", ErrAddrInUse, e.Name, a)
		}
	}
	return nil
}

// freeAddr is the lowest address of the subnet that is neither the
// gateway, the broadcast address nor in use.
func (n *Network) freeAddr(eps endpoints) (netip.Addr, error) {
	used := map[netip.Addr]bool{}
	for _, e := range eps.Endpoints {
		used[e.IP] = true
	}
	pool := n.cfg.Subnet
	if n.cfg.IPRange.IsValid() {
		pool = n.cfg.IPRange.Masked()
	}
	for a := pool.Addr(); pool.Contains(a); a = a.Next() {
		if !n.cfg.Subnet.Contains(a.Next()) {
			break // broadcast
		}
		if a != n.cfg.Subnet.Addr() && a != n.cfg.Gateway && !used[a] {
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("no free address left in %s: remove stopped containers or configure a larger subnet", n.cfg.Subnet)
}
