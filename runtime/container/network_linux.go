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

// attachNetwork plugs a container's namespace (its init's, pid) into
// each network it joins, the first as eth0 with the default route. The
// init is still waiting for its config, so the interfaces, addresses and
// routes are there before the command runs. The networks are read from
// the spec on disk: connect changes them between runs.
func (m *monitor) attachNetwork(pid int) ([]network.Attachment, error) {
	var out []network.Attachment
	for _, ref := range m.joined() {
		n, err := network.Load(ref.Dir)
		if err == nil {
			var att network.Attachment
			att, err = n.Attach(context.Background(), endpointOf(m.spec, m.dir, ref), pid)
			out = append(out, att)
		}
		if err != nil {
			m.detachNetwork()
			m.unplugNetwork(out)
			return nil, err
		}
	}
	return out, nil
}

// plugged is an init taken for the container's next run and the plugging
// of its namespace into the container's networks, which runs meanwhile.
type plugged struct {
	p    *initProc
	done chan struct{}
	att  []network.Attachment
	err  error
}

// plugInit takes an init for the container's next run and starts
// plugging its namespace into the container's networks.
func (m *monitor) plugInit() (*plugged, error) {
	p, err := m.takeInit(initFlagsFor(m.spec.NetworkMode))
	if err != nil {
		return nil, err
	}
	pl := &plugged{p: p, done: make(chan struct{})}
	go func() {
		defer close(pl.done)
		pl.att, pl.err = m.attachNetwork(p.cmd.Process.Pid)
	}()
	return pl, nil
}

// wait returns the init's attachments once plugged, or why it could not
// be (attachNetwork undid what it had done).
func (pl *plugged) wait() ([]network.Attachment, error) {
	<-pl.done
	return pl.att, pl.err
}

// unplugInit ends an init that will not run, releasing its network.
func (m *monitor) unplugInit(pl *plugged) {
	if att, err := pl.wait(); err == nil {
		m.detachNetwork()
		m.unplugNetwork(att)
	}
	pl.p.discard()
}

// joined are the networks of the container's spec as stored now.
func (m *monitor) joined() []NetworkRef {
	var spec Spec
	if err := readJSON(filepath.Join(m.dir, specFile), &spec); err != nil {
		return m.spec.Joined()
	}
	return spec.Joined()
}

// detachNetwork releases the addresses of a container whose run ended
// (Docker frees them at stop too).
func (m *monitor) detachNetwork() {
	for _, ref := range m.joined() {
		if n, err := network.Load(ref.Dir); err == nil {
			if err := n.Detach(context.Background(), m.spec.ID); err != nil {
				fmt.Fprintf(os.Stderr, "monitor: %v\n", err)
			}
		}
	}
}

// unplugNetwork deletes the veth pairs of the run that ended, when the
// kernel has not yet: after the exit is reported, as it is slow.
func (m *monitor) unplugNetwork(atts []network.Attachment) {
	for _, att := range atts {
		if n, err := network.Load(att.Dir); err == nil {
			n.Unplug(m.spec.ID, att.HostLink)
		}
	}
}

// primary is the attachment of a container's first network.
func primary(atts []network.Attachment) *network.Attachment {
	if len(atts) == 0 {
		return nil
	}
	return &atts[0]
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
		if len(spec.Networks) > 0 && spec.Networks[0].Name == NetworkBridge {
			spec.Networks[0].Dir = spec.NetworkDir
		}
	case NetworkHost:
		spec.Ports = nil
		if spec.Hostname == "" {
			spec.Hostname, _ = os.Hostname()
		}
	default:
		if len(spec.Networks) == 0 {
			return fmt.Errorf("network %q not found: use bridge, host or none", spec.NetworkMode)
		}
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

// releaseNetwork frees a removed container's addresses, in case its
// monitor could not.
func (r *Runtime) releaseNetwork(ctx context.Context, spec Spec) {
	for _, ref := range spec.Joined() {
		if n, err := network.Load(ref.Dir); err == nil {
			n.Detach(ctx, spec.ID)
		}
	}
}
