package network

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// hostVeth is the machine's end of a container's veth pair: bv and the
// container id on the default bridge, bv, 8 of the container id and 4 of
// the network id on the others (IFNAMSIZ leaves 15 characters).
func (n *Network) hostVeth(containerID string) string {
	id := containerID
	if n.cfg.ID == "" {
		return "bv" + cut(id, 11)
	}
	return "bv" + cut(id, 8) + cut(n.cfg.ID, 4)
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// nsHandle is a route netlink handle in the network namespace of pid.
// Route netlink only: by default a handle opens xfrm and netfilter
// sockets too, which a kernel without xfrm_user (berth-os) refuses.
func nsHandle(pid int) (*netlink.Handle, error) {
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		return nil, fmt.Errorf("open network namespace of process %d: %w", pid, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("enter network namespace of process %d: %w", pid, err)
	}
	return h, nil
}

// peerName is the first of eth0, eth1, ... that the namespace h is in has
// not got: a container's first network is its eth0.
func peerName(h *netlink.Handle) string {
	for i := 0; ; i++ {
		name := fmt.Sprintf("eth%d", i)
		if _, err := h.LinkByName(name); err != nil {
			return name
		}
	}
}

// plug creates the veth pair with its peer made directly as eth0 in the
// network namespace of pid, gives it ep's address and MAC and a default
// route via the gateway, and brings both ends up. It returns the index
// of the machine's end.
func (n *Network) plug(ep Endpoint, pid int) (int, error) {
	br, err := ensureBridge(n.cfg)
	if err != nil {
		return 0, err
	}
	n.unplug(ep.ContainerID, 0) // a pair left by an earlier run
	// One handle in the container's namespace for finding the peer's
	// name and configuring it (each costs milliseconds in a TCG machine).
	h, err := nsHandle(pid)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	peer := peerName(h)
	mac, err := net.ParseMAC(ep.MAC)
	if err != nil {
		return 0, err
	}
	la := netlink.NewLinkAttrs()
	la.Name = n.hostVeth(ep.ContainerID)
	la.MasterIndex = br.Attrs().Index
	la.MTU = br.Attrs().MTU
	veth := &netlink.Veth{LinkAttrs: la, PeerName: peer, PeerHardwareAddr: mac, PeerNamespace: netlink.NsPid(pid)}
	err = netlink.LinkAdd(veth)
	if errors.Is(err, unix.EOPNOTSUPP) && LoadModules(context.Background()) == nil {
		err = netlink.LinkAdd(veth) // the veth module was not loaded yet
	}
	if err != nil {
		return 0, fmt.Errorf("create veth pair %s: %w", la.Name, err)
	}
	if err := n.configurePeer(h, ep, peer); err != nil {
		n.unplug(ep.ContainerID, 0)
		return 0, err
	}
	if err := netlink.LinkSetUp(veth); err != nil {
		n.unplug(ep.ContainerID, 0)
		return 0, fmt.Errorf("bring %s up: %w", la.Name, err)
	}
	return veth.Attrs().Index, nil
}

// configurePeer gives the container's end, peer in the namespace of h,
// its address and, on its first network when not internal, the default
// route through the gateway.
func (n *Network) configurePeer(h *netlink.Handle, ep Endpoint, peer string) error {
	eth, err := h.LinkByName(peer)
	if err != nil {
		return fmt.Errorf("find the container's %s: %w", peer, err)
	}
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: ipNet(ep.IP, n.cfg.Subnet.Bits())}); err != nil {
		return fmt.Errorf("give %s the address %s: %w", peer, ep.IP, err)
	}
	if err := h.LinkSetUp(eth); err != nil {
		return fmt.Errorf("bring %s up: %w", peer, err)
	}
	if peer != "eth0" || n.cfg.Internal {
		return nil
	}
	gw := net.IP(n.cfg.Gateway.AsSlice())
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw}); err != nil {
		return fmt.Errorf("add the default route via %s: %w", gw, err)
	}
	return nil
}

// Unplug deletes the machine's end of a container's veth pair, which
// takes the peer with it, when it is still there: the kernel removes the
// pair by itself once the container's network namespace is gone, but
// does so later. hostLink is Attachment.HostLink: a pair made since by
// another run of the container is left alone. It takes tens of
// milliseconds (the kernel waits for an RCU grace period), so monitors
// call it after reporting the exit.
func (n *Network) Unplug(containerID string, hostLink int) {
	n.unplug(containerID, hostLink)
}

// unplug deletes the link named for containerID, when its index is
// hostLink (0: whatever its index).
func (n *Network) unplug(containerID string, hostLink int) {
	l, err := netlink.LinkByName(n.hostVeth(containerID))
	if err != nil {
		return // gone already (or never made)
	}
	if hostLink != 0 && l.Attrs().Index != hostLink {
		return
	}
	netlink.LinkDel(l)
}
