package converge

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// ensureNetworks makes the project's networks that are missing, labelled
// as compose labels them; external ones must exist. A network that
// exists is kept as it is, even when its settings changed.
func ensureNetworks(ctx context.Context, api client.APIClient, p *types.Project, emit func(Event)) error {
	keys := make([]string, 0, len(p.Networks))
	for k := range p.Networks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := p.Networks[k]
		_, err := api.NetworkInspect(ctx, n.Name, client.NetworkInspectOptions{})
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("network %s: %w", n.Name, err)
		}
		if n.External {
			return fmt.Errorf("network %s is external but does not exist: make it with docker network create %s", n.Name, n.Name)
		}
		start := time.Now()
		emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusStarted})
		opts, err := networkCreateOptions(p, k, n)
		if err == nil {
			_, err = api.NetworkCreate(ctx, n.Name, opts)
		}
		if err != nil && !cerrdefs.IsConflict(err) {
			err = fmt.Errorf("create network %s: %w", n.Name, err)
			emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusFailed, Err: err, Duration: time.Since(start)})
			return err
		}
		emit(Event{Step: StepNetwork, Container: n.Name, Status: StatusDone, Duration: time.Since(start)})
	}
	return nil
}

func networkCreateOptions(p *types.Project, key string, n types.NetworkConfig) (client.NetworkCreateOptions, error) {
	hash, err := NetworkHash(n)
	if err != nil {
		return client.NetworkCreateOptions{}, err
	}
	labels := map[string]string{}
	for k, v := range n.Labels {
		labels[k] = v
	}
	labels[LabelNetwork] = key
	labels[LabelProject] = p.Name
	labels[LabelVersion] = ComposeVersion
	labels[LabelConfigHash] = hash
	opts := client.NetworkCreateOptions{
		Driver:     n.Driver,
		Options:    n.DriverOpts,
		Internal:   n.Internal,
		Attachable: n.Attachable,
		Labels:     labels,
		EnableIPv4: n.EnableIPv4,
		EnableIPv6: n.EnableIPv6,
	}
	if n.Ipam.Driver != "" || len(n.Ipam.Config) > 0 {
		ipam := &network.IPAM{Driver: n.Ipam.Driver, Options: n.Ipam.Options}
		for _, pool := range n.Ipam.Config {
			var c network.IPAMConfig
			if pool.Subnet != "" {
				if c.Subnet, err = netip.ParsePrefix(pool.Subnet); err != nil {
					return opts, fmt.Errorf("network %s: subnet %q: %w", key, pool.Subnet, err)
				}
			}
			if pool.IPRange != "" {
				if c.IPRange, err = netip.ParsePrefix(pool.IPRange); err != nil {
					return opts, fmt.Errorf("network %s: ip_range %q: %w", key, pool.IPRange, err)
				}
			}
			if pool.Gateway != "" {
				if c.Gateway, err = netip.ParseAddr(pool.Gateway); err != nil {
					return opts, fmt.Errorf("network %s: gateway %q: %w", key, pool.Gateway, err)
				}
			}
			ipam.Config = append(ipam.Config, c)
		}
		opts.IPAM = ipam
	}
	return opts, nil
}

// ensureVolumes makes the project's named volumes that are missing,
// labelled as compose labels them; external ones must exist.
func ensureVolumes(ctx context.Context, api client.APIClient, p *types.Project, emit func(Event)) error {
	keys := make([]string, 0, len(p.Volumes))
	for k := range p.Volumes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := p.Volumes[k]
		_, err := api.VolumeInspect(ctx, v.Name, client.VolumeInspectOptions{})
		if err == nil {
			continue
		}
		if !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		if v.External {
			return fmt.Errorf("volume %s is external but does not exist: make it with docker volume create %s", v.Name, v.Name)
		}
		hash, err := VolumeHash(v)
		if err != nil {
			return err
		}
		labels := map[string]string{}
		for lk, lv := range v.Labels {
			labels[lk] = lv
		}
		labels[LabelVolume] = k
		labels[LabelProject] = p.Name
		labels[LabelVersion] = ComposeVersion
		labels[LabelConfigHash] = hash
		start := time.Now()
		emit(Event{Step: StepVolume, Container: v.Name, Status: StatusStarted})
		if _, err := api.VolumeCreate(ctx, client.VolumeCreateOptions{Name: v.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			err = fmt.Errorf("create volume %s: %w", v.Name, err)
			emit(Event{Step: StepVolume, Container: v.Name, Status: StatusFailed, Err: err, Duration: time.Since(start)})
			return err
		}
		emit(Event{Step: StepVolume, Container: v.Name, Status: StatusDone, Duration: time.Since(start)})
	}
	return nil
}
