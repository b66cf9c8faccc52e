package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"

	"github.com/vishvananda/netlink"
)

// Errors of user-defined networks.
var (
	ErrNetworkExists = errors.New("network exists")
	ErrPoolOverlap   = errors.New("pool overlaps with other one on this address space")
)

// UserBridge is the Linux bridge of a user-defined network: br- and the
// network id's short form, as Docker names them.
func UserBridge(id string) string { return "br-" + ShortID(id) }

// List reads the user-defined networks kept in root (one folder each,
// named by id), oldest first.
func List(root string) ([]*Network, error) {
	dirs, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []*Network
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if n, err := Load(filepath.Join(root, d.Name())); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cfg.Created.Before(out[j].cfg.Created) })
	return out, nil
}

// Create makes the user-defined network cfg (ID, Name and Created set
// by the caller) in root/ID: its subnet is cfg.Subnet, which must not
// overlap others (existing, the machine's), else the first candidate
// clear of them all; then its bridge. The caller applies the rules of
// all networks after (ApplyRules). others are the subnets of the
// networks that exist.
func Create(ctx context.Context, root string, cfg Config, others []netip.Prefix) (*Network, error) {
	cfg.Bridge = UserBridge(cfg.ID)
	used, err := machineNetworks("")
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Subnet.IsValid():
		if overlapsAny(cfg.Subnet, others) {
			return nil, fmt.Errorf("create network %s: %w", cfg.Name, ErrPoolOverlap)
		}
	default:
		if cfg.Subnet, err = ChooseSubnet(Candidates, append(used, others...)); err != nil {
			return nil, fmt.Errorf("create network %s: %w", cfg.Name, err)
		}
	}
	if cfg.IPRange.IsValid() && !cfg.Subnet.Contains(cfg.IPRange.Addr()) {
		return nil, fmt.Errorf("create network %s: ip range %s is not in subnet %s", cfg.Name, cfg.IPRange, cfg.Subnet)
	}
	if cfg.Gateway.IsValid() && !cfg.Subnet.Contains(cfg.Gateway) {
		return nil, fmt.Errorf("create network %s: gateway %s is not in subnet %s", cfg.Name, cfg.Gateway, cfg.Subnet)
	}
	n := &Network{dir: filepath.Join(root, cfg.ID), cfg: cfg.withGateway()}
	if err := os.MkdirAll(n.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create network folder: %w", err)
	}
	if err := writeStore(filepath.Join(n.dir, configFile), n.cfg); err != nil {
		os.RemoveAll(n.dir)
		return nil, fmt.Errorf("create network %s: %w", cfg.Name, err)
	}
	if err := n.Setup(); err != nil {
		n.Remove(ctx)
		return nil, err
	}
	return n, nil
}

// Setup makes the network's bridge (at create and at agent start) and
// turns forwarding on.
func (n *Network) Setup() error {
	if _, err := ensureBridge(n.cfg); err != nil {
		return fmt.Errorf("set up network %s: %w", n.cfg.Name, err)
	}
	return enableForwarding()
}

// Remove deletes the network's bridge and folder; the caller checks that
// no container uses it and applies the rules of the others after.
func (n *Network) Remove(ctx context.Context) error {
	if l, err := netlink.LinkByName(n.cfg.Bridge); err == nil {
		if err := netlink.LinkDel(l); err != nil {
			return fmt.Errorf("remove bridge %s of network %s: %w", n.cfg.Bridge, n.cfg.Name, err)
		}
	}
	if err := os.RemoveAll(n.dir); err != nil {
		return fmt.Errorf("remove network %s: %w", n.cfg.Name, err)
	}
	return nil
}
