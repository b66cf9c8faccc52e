package converge

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// containerName is the name docker compose v2 and later give replica n of
// a service: project-service-n, or container_name.
func containerName(p *types.Project, s types.ServiceConfig, n int) string {
	if s.ContainerName != "" {
		return s.ContainerName
	}
	return p.Name + "-" + s.Name + "-" + strconv.Itoa(n)
}

// createOptions is the container create request for replica n of s, as
// docker compose v5 makes it: labels, environment, mounts, ports, the
// project's networks with the service's aliases, restart policy,
// healthcheck, extra hosts and resources.
func createOptions(p *types.Project, s types.ServiceConfig, n int, hash, imageID string) (client.ContainerCreateOptions, error) {
	name := containerName(p, s, n)
	labels := map[string]string{}
	for k, v := range s.Labels {
		labels[k] = v
	}
	var deps []string
	for dep, d := range s.DependsOn {
		deps = append(deps, fmt.Sprintf("%s:%s:%t", dep, d.Condition, d.Restart))
	}
	sort.Strings(deps)
	for k, v := range map[string]string{
		LabelProject:     p.Name,
		LabelService:     s.Name,
		LabelNumber:      strconv.Itoa(n),
		LabelConfigHash:  hash,
		LabelOneoff:      "False",
		LabelWorkingDir:  p.WorkingDir,
		LabelConfigFiles: strings.Join(p.ComposeFiles, ","),
		LabelVersion:     ComposeVersion,
		LabelDependsOn:   strings.Join(deps, ","),
		LabelImage:       imageID,
	} {
		labels[k] = v
	}

	cfg := &container.Config{
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		User:         s.User,
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		AttachStdout: true,
		AttachStderr: true,
		Image:        imageName(p, s),
		WorkingDir:   s.WorkingDir,
		Labels:       labels,
		StopSignal:   s.StopSignal,
		Env:          envList(s.Environment),
	}
	if s.Command != nil {
		cfg.Cmd = []string(s.Command)
	}
	if s.Entrypoint != nil {
		cfg.Entrypoint = []string(s.Entrypoint)
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod) / time.Second)
		cfg.StopTimeout = &secs
	}
	cfg.Healthcheck = healthConfig(s.HealthCheck)

	host := &container.HostConfig{
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		Init:           s.Init,
		Privileged:     s.Privileged,
		ReadonlyRootfs: s.ReadOnly,
		ShmSize:        int64(s.ShmSize),
		Sysctls:        s.Sysctls,
		SecurityOpt:    s.SecurityOpt,
		GroupAdd:       s.GroupAdd,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOpts,
	}
	sort.Strings(host.ExtraHosts)
	for _, d := range s.DNS {
		a, err := netip.ParseAddr(d)
		if err != nil {
			return client.ContainerCreateOptions{}, fmt.Errorf("service %s: dns %q is not an IP address", s.Name, d)
		}
		host.DNS = append(host.DNS, a)
	}
	var err error
	if host.RestartPolicy, err = restartPolicy(s.Restart); err != nil {
		return client.ContainerCreateOptions{}, fmt.Errorf("service %s: %w", s.Name, err)
	}
	host.Resources = resources(s)
	if len(s.Tmpfs) > 0 {
		host.Tmpfs = map[string]string{}
		for _, t := range s.Tmpfs {
			k, v, _ := strings.Cut(t, ":")
			host.Tmpfs[k] = v
		}
	}
	if host.Binds, host.Mounts, err = mounts(p, s); err != nil {
		return client.ContainerCreateOptions{}, err
	}
	if cfg.ExposedPorts, host.PortBindings, err = ports(s); err != nil {
		return client.ContainerCreateOptions{}, err
	}
	nets, mode, err := networking(p, s, name)
	if err != nil {
		return client.ContainerCreateOptions{}, err
	}
	host.NetworkMode = container.NetworkMode(mode)
	return client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: host, NetworkingConfig: nets}, nil
}

// envList is the service environment as KEY=VALUE, sorted; a variable
// left without a value is passed as KEY (unset in the container).
func envList(m types.MappingWithEquals) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		if v == nil {
			out = append(out, k)
			continue
		}
		out = append(out, k+"="+*v)
	}
	sort.Strings(out)
	return out
}

func healthConfig(h *types.HealthCheckConfig) *container.HealthConfig {
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	c := &container.HealthConfig{Test: h.Test}
	d := func(p *types.Duration) time.Duration {
		if p == nil {
			return 0
		}
		return time.Duration(*p)
	}
	c.Interval, c.Timeout, c.StartPeriod, c.StartInterval = d(h.Interval), d(h.Timeout), d(h.StartPeriod), d(h.StartInterval)
	if h.Retries != nil {
		c.Retries = int(*h.Retries)
	}
	return c
}

// restartPolicy parses restart: no, always, unless-stopped, on-failure[:N].
func restartPolicy(r string) (container.RestartPolicy, error) {
	mode, count, _ := strings.Cut(r, ":")
	switch container.RestartPolicyMode(mode) {
	case "":
		return container.RestartPolicy{}, nil
	case container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if count != "" {
			return container.RestartPolicy{}, fmt.Errorf("restart %q: only on-failure takes a count", r)
		}
		return container.RestartPolicy{Name: container.RestartPolicyMode(mode)}, nil
	case container.RestartPolicyOnFailure:
		p := container.RestartPolicy{Name: container.RestartPolicyOnFailure}
		if count != "" {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return container.RestartPolicy{}, fmt.Errorf("restart %q: the count must be a number", r)
			}
			p.MaximumRetryCount = n
		}
		return p, nil
	}
	return container.RestartPolicy{}, fmt.Errorf("restart %q: use no, always, unless-stopped or on-failure[:N]", r)
}

// resources are mem_limit, cpus and pids_limit, or deploy's limits.
func resources(s types.ServiceConfig) container.Resources {
	r := container.Resources{Memory: int64(s.MemLimit), NanoCPUs: int64(s.CPUS * 1e9)}
	if s.PidsLimit != 0 {
		pl := s.PidsLimit
		r.PidsLimit = &pl
	}
	if s.Deploy != nil && s.Deploy.Resources.Limits != nil {
		l := s.Deploy.Resources.Limits
		if l.MemoryBytes != 0 {
			r.Memory = int64(l.MemoryBytes)
		}
		if l.NanoCPUs != 0 {
			r.NanoCPUs = int64(float64(l.NanoCPUs) * 1e9)
		}
		if l.Pids != 0 {
			pl := l.Pids
			r.PidsLimit = &pl
		}
	}
	return r
}

// mounts turns the service's volumes into binds (host paths, made when
// missing as short syntax asks) and mounts (named and anonymous volumes,
// tmpfs, binds that must exist).
func mounts(p *types.Project, s types.ServiceConfig) ([]string, []mount.Mount, error) {
	var binds []string
	var ms []mount.Mount
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind == nil || bool(v.Bind.CreateHostPath) {
				b := v.Source + ":" + v.Target
				if v.ReadOnly {
					b += ":ro"
				}
				binds = append(binds, b)
				continue
			}
			ms = append(ms, mount.Mount{Type: mount.TypeBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Source != "" {
				vol, ok := p.Volumes[v.Source]
				if !ok {
					return nil, nil, fmt.Errorf("service %s: volume %q is not declared (add it under the top-level volumes)", s.Name, v.Source)
				}
				m.Source = vol.Name
			}
			if v.Volume != nil && (v.Volume.NoCopy || v.Volume.Subpath != "") {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Subpath: v.Volume.Subpath}
			}
			ms = append(ms, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size)}
			}
			ms = append(ms, m)
		default:
			return nil, nil, fmt.Errorf("service %s: volume type %q is not supported (use volume, bind or tmpfs)", s.Name, v.Type)
		}
	}
	return binds, ms, nil
}

// ports are the service's exposed and published ports.
func ports(s types.ServiceConfig) (network.PortSet, network.PortMap, error) {
	set := network.PortSet{}
	bind := network.PortMap{}
	for _, e := range s.Expose {
		port, err := network.ParsePort(e)
		if err != nil {
			return nil, nil, fmt.Errorf("service %s: expose %q: %w", s.Name, e, err)
		}
		set[port] = struct{}{}
	}
	for _, pc := range s.Ports {
		proto := pc.Protocol
		if proto == "" {
			proto = "tcp"
		}
		port, err := network.ParsePort(fmt.Sprintf("%d/%s", pc.Target, proto))
		if err != nil {
			return nil, nil, fmt.Errorf("service %s: port %d: %w", s.Name, pc.Target, err)
		}
		set[port] = struct{}{}
		b := network.PortBinding{HostPort: pc.Published}
		if pc.HostIP != "" {
			if b.HostIP, err = netip.ParseAddr(pc.HostIP); err != nil {
				return nil, nil, fmt.Errorf("service %s: port %d: host_ip %q is not an IP address", s.Name, pc.Target, pc.HostIP)
			}
		}
		bind[port] = append(bind[port], b)
	}
	if len(set) == 0 {
		set = nil
	}
	if len(bind) == 0 {
		bind = nil
	}
	return set, bind, nil
}

// networking is the container's network mode and endpoints: network_mode
// as given, else every network of the service (its first by priority as
// the mode), each with the container's name, the service's name and its
// aliases as DNS names.
func networking(p *types.Project, s types.ServiceConfig, name string) (*network.NetworkingConfig, string, error) {
	if s.NetworkMode != "" {
		if strings.HasPrefix(s.NetworkMode, "service:") || strings.HasPrefix(s.NetworkMode, "container:") {
			return nil, "", fmt.Errorf("service %s: network_mode %s is not supported yet", s.Name, s.NetworkMode)
		}
		return nil, s.NetworkMode, nil
	}
	keys := s.NetworksByPriority()
	if len(keys) == 0 {
		return nil, "", nil
	}
	cfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{}}
	mode := ""
	for _, k := range keys {
		n, ok := p.Networks[k]
		if !ok {
			return nil, "", fmt.Errorf("service %s: network %q is not declared (add it under the top-level networks)", s.Name, k)
		}
		if mode == "" {
			mode = n.Name
		}
		ep := &network.EndpointSettings{Aliases: []string{name, s.Name}}
		if sn := s.Networks[k]; sn != nil {
			ep.Aliases = append(ep.Aliases, sn.Aliases...)
			if sn.Ipv4Address != "" || sn.Ipv6Address != "" {
				ep.IPAMConfig = &network.EndpointIPAMConfig{}
				if sn.Ipv4Address != "" {
					a, err := netip.ParseAddr(sn.Ipv4Address)
					if err != nil {
						return nil, "", fmt.Errorf("service %s: network %s: ipv4_address %q: %w", s.Name, k, sn.Ipv4Address, err)
					}
					ep.IPAMConfig.IPv4Address = a
				}
				if sn.Ipv6Address != "" {
					a, err := netip.ParseAddr(sn.Ipv6Address)
					if err != nil {
						return nil, "", fmt.Errorf("service %s: network %s: ipv6_address %q: %w", s.Name, k, sn.Ipv6Address, err)
					}
					ep.IPAMConfig.IPv6Address = a
				}
			}
		}
		cfg.EndpointsConfig[n.Name] = ep
	}
	return cfg, mode, nil
}
