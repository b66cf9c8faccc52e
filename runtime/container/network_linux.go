package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berthvm/berth/runtime/network"
	"golang.org/x/sys/unix"
)

// initFlagsFor are the namespaces of an init for a network mode: host
// networking shares the machine's network namespace.
func initFlagsFor(mode string) uintptr {
	if mode == NetworkHost {
		return initFlags &^ unix.CLONE_NEWNET
	}
	return initFlags
}

// attachNetwork plugs a bridge container's namespace (its init's, pid)
// into the network. The init is still waiting for its config, so eth0,
// the address and the route are there before the command runs.
func (m *monitor) attachNetwork(pid int) (*network.Attachment, error) {
	if m.spec.NetworkMode != NetworkBridge {
		return nil, nil
	}
	n, err := network.Load(m.spec.NetworkDir)
	if err != nil {
		return nil, err
	}
	att, err := n.Attach(context.Background(), network.Endpoint{
		ContainerID: m.spec.ID, Name: m.spec.Name, Hostname: m.spec.Hostname,
		HostsFile: filepath.Join(m.dir, "hosts"), ExtraHosts: m.spec.ExtraHosts,
	}, pid)
	if err != nil {
		return nil, err
	}
	return &att, nil
}

// detachNetwork releases the address of a bridge container whose run
// ended (Docker frees it at stop too).
func (m *monitor) detachNetwork() {
	if m.spec.NetworkMode != NetworkBridge {
		return
	}
	if n, err := network.Load(m.spec.NetworkDir); err == nil {
		if err := n.Detach(context.Background(), m.spec.ID); err != nil {
			fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
		}
	}
}

// unplugNetwork deletes the veth pair of the run that ended, when the
// kernel has not yet: after the exit is reported, as it is slow.
func (m *monitor) unplugNetwork(att *network.Attachment) {
	if att == nil {
		return
	}
	if n, err := network.Load(m.spec.NetworkDir); err == nil {
		n.Unplug(m.spec.ID, att.HostLink)
	}
}

// prepareNetwork checks spec's network mode and fills what it implies:
// the bridge's folder, or for host networking the machine's hostname and
// no published ports (Docker discards them too).
func (r *Runtime) prepareNetwork(spec *Spec) error {
	switch spec.NetworkMode {
	case "", NetworkNone:
		spec.NetworkMode = NetworkNone
	case NetworkBridge:
		if r.net == nil {
			return fmt.Errorf("the bridge network is not set up on this machine (see the agent's log): use --network none or host")
		}
		spec.NetworkDir = r.net.Dir()
	case NetworkHost:
		spec.Ports = nil
		if spec.Hostname == "" {
			spec.Hostname, _ = os.Hostname()
		}
	default:
		return fmt.Errorf("network %q not found: use bridge, host or none", spec.NetworkMode)
	}
	return nil
}

// networkFiles are a new container's /etc/hosts and /etc/resolv.conf:
// the machine's own with host networking; for the others localhost only
// (the network adds the container's and its peers' names as they run)
// and the machine's resolvers that a container can reach. The extra
// hosts come after the hosts file's own lines in every mode.
func networkFiles(mode string, extra []network.Host) (hosts, resolv []byte) {
	machine, err := os.ReadFile("/etc/resolv.conf")
	if mode != NetworkHost {
		return network.BaseHosts(extra...), network.ResolvConf(machine)
	}
	if err != nil {
		machine = network.ResolvConf(nil)
	}
	own, err := os.ReadFile("/etc/hosts")
	if err != nil {
		return network.BaseHosts(extra...), machine
	}
	return network.AddHosts(own, extra), machine
}

// pruneNetwork releases the addresses of containers that do not run
// (their monitor died and could not).
func (r *Runtime) pruneNetwork() {
	if r.net == nil {
		return
	}
	r.net.Prune(func(id string) bool {
		st, err := r.state(id)
		return err == nil && st.Running()
	})
}

// releaseNetwork frees a removed container's address, in case its
// monitor could not.
func (r *Runtime) releaseNetwork(ctx context.Context, spec Spec) {
	if spec.NetworkMode == NetworkBridge && r.net != nil {
		r.net.Detach(ctx, spec.ID)
	}
}
