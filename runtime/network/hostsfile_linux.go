package network

import (
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/sys/unix"
)

// A container on several networks has one hosts file made of parts: its
// base (localhost, extra hosts), then one fragment per network, each kept
// beside the hosts file by its network and joined under a lock on the
// hosts file.
const fragmentInfix = ".net-"

// tag names the network in file and interface names: "bridge" for the
// default bridge, else the network id's short form.
func (n *Network) tag() string {
	if n.cfg.ID == "" {
		return DefaultName
	}
	return ShortID(n.cfg.ID)
}

// writeHosts rewrites every endpoint's hosts file with the network's
// current view.
func (n *Network) writeHosts(eps endpoints) {
	all := make([]Endpoint, 0, len(eps.Endpoints))
	for _, e := range eps.Endpoints {
		all = append(all, e)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].IP.Less(all[j].IP) })
	for _, e := range all {
		n.writeContainerHosts(e, Fragment(e, all))
	}
}

// writeContainerHosts replaces the network's fragment of e's hosts file
// (removes it when frag is nil) and rewrites the hosts file in place:
// the monitor bind-mounts it, and a bind mount holds the inode, so a
// rename would not be seen inside the container.
func (n *Network) writeContainerHosts(e Endpoint, frag []byte) {
	f, err := os.OpenFile(e.HostsFile, os.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return // the container is being removed
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		return
	}
	part := e.HostsFile + fragmentInfix + n.tag()
	if frag == nil {
		os.Remove(part)
	} else if err := os.WriteFile(part, frag, 0o644); err != nil {
		return
	}
	parts, _ := filepath.Glob(e.HostsFile + fragmentInfix + "*")
	sort.Strings(parts)
	out := BaseHosts(e.ExtraHosts...)
	for _, p := range parts {
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, b...)
		}
	}
	// The new content first, then the cut: a process reading the file
	// meanwhile (it takes no lock) never finds it empty.
	if _, err := f.WriteAt(out, 0); err == nil {
		f.Truncate(int64(len(out)))
	}
}
