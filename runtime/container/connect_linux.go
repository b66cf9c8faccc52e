package container

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/berthvm/berth/runtime/network"
)

// endpointOf is the container of spec (folder dir) on network ref.
func endpointOf(spec Spec, dir string, ref NetworkRef) network.Endpoint {
	return network.Endpoint{
		ContainerID: spec.ID, Name: spec.Name, Hostname: spec.Hostname,
		HostsFile: filepath.Join(dir, "hosts"), ExtraHosts: spec.ExtraHosts,
		Aliases: ref.Aliases, Links: spec.Links, IP: ref.IP,
	}
}

// Connect adds network ref to the networks of container cref: it joins
// it at each start, and at once when it runs.
func (r *Runtime) Connect(ctx context.Context, cref string, ref NetworkRef) error {
	spec, err := r.changeNetworks(cref, func(s *Spec) error {
		if s.NetworkMode == NetworkHost || s.NetworkMode == NetworkNone {
			return fmt.Errorf("%w: %s", ErrNetworkMode, s.NetworkMode)
		}
		joined := s.Joined()
		if slices.ContainsFunc(joined, func(j NetworkRef) bool { return j.Name == ref.Name }) {
			return fmt.Errorf("%w: %s", ErrAlreadyConnected, ref.Name)
		}
		s.Networks = append(slices.Clone(joined), ref)
		return nil
	})
	if err != nil {
		return err
	}
	st, err := r.state(spec.ID)
	if err != nil || !st.Running() || st.Pid == 0 {
		return nil
	}
	n, err := network.Load(ref.Dir)
	if err != nil {
		return err
	}
	_, err = n.Attach(ctx, endpointOf(spec, r.cdir(spec.ID), ref), st.Pid)
	return err
}

// Disconnect takes network name out of the networks of container cref,
// and the container off it at once when it runs.
func (r *Runtime) Disconnect(ctx context.Context, cref, name string) error {
	var gone NetworkRef
	spec, err := r.changeNetworks(cref, func(s *Spec) error {
		joined := s.Joined()
		i := slices.IndexFunc(joined, func(j NetworkRef) bool { return j.Name == name })
		if i < 0 {
			return fmt.Errorf("%w: %s", ErrNotConnected, name)
		}
		gone = joined[i]
		s.Networks = slices.Delete(slices.Clone(joined), i, i+1)
		if len(s.Networks) == 0 {
			s.NetworkDir = "" // not back to the bridge by Joined
		}
		return nil
	})
	if err != nil {
		return err
	}
	n, err := network.Load(gone.Dir)
	if err != nil {
		return nil // the network is gone with its addresses
	}
	if err := n.Detach(ctx, spec.ID); err != nil {
		return err
	}
	n.Unplug(spec.ID, 0)
	return nil
}

// changeNetworks applies change to the spec of container cref and
// stores it.
func (r *Runtime) changeNetworks(cref string, change func(*Spec) error) (Spec, error) {
	e, err := r.lookup(cref)
	if err != nil {
		return Spec{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	spec := e.spec()
	if err := change(&spec); err != nil {
		return Spec{}, err
	}
	if err := writeJSON(filepath.Join(r.cdir(spec.ID), specFile), spec); err != nil {
		return Spec{}, fmt.Errorf("store networks of container %s: %w", spec.Name, err)
	}
	e.cur.Store(&spec)
	return spec, nil
}
