package runspec

import (
	"net/netip"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
)

// ContainerConfig turns opts into the API's create request. getenv looks
// up the variables -e NAME passes on (os.LookupEnv). Errors of invalid
// options match ErrInvalid.
func ContainerConfig(opts Options, getenv func(string) (string, bool)) (*ctypes.Config, *ctypes.HostConfig, error) {
	env, err := ReadEnv(opts.Env, opts.EnvFiles, getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg := &ctypes.Config{
		Image: opts.Image, Cmd: opts.Args, Env: env, WorkingDir: opts.Workdir, User: opts.User,
		Hostname: opts.Hostname, Tty: opts.TTY, OpenStdin: opts.Interact, StdinOnce: opts.Interact && !opts.Detach,
		AttachStdin: opts.Interact && !opts.Detach, AttachStdout: !opts.Detach, AttachStderr: !opts.Detach,
	}
	if opts.Entrypoint != nil {
		cfg.Entrypoint = []string{*opts.Entrypoint}
	}
	// The agent removes a --rm container when it exits, also when the
	// front end is gone by then (killed, or the connection lost).
	hc := &ctypes.HostConfig{AutoRemove: opts.Remove, NetworkMode: "default", PublishAllPorts: opts.PublishAll}
	switch opts.Network {
	case "":
	case "bridge", "host", "none":
		hc.NetworkMode = ctypes.NetworkMode(opts.Network)
	default:
		return nil, nil, invalidf("--network %q: use bridge, host or none", opts.Network)
	}
	if err := publish(opts, cfg, hc); err != nil {
		return nil, nil, err
	}
	hc.ReadonlyRootfs = opts.ReadOnly
	if hc.SecurityOpt, err = securityOpts(opts.Security); err != nil {
		return nil, nil, err
	}
	mounts(opts, cfg, hc)
	if err := limits(opts, hc); err != nil {
		return nil, nil, err
	}
	if hc.RestartPolicy, err = restartPolicy(opts.Restart, opts.Remove); err != nil {
		return nil, nil, err
	}
	return cfg, hc, nil
}

// publish sets the ports of -p (and -P, in hc.PublishAllPorts already).
func publish(opts Options, cfg *ctypes.Config, hc *ctypes.HostConfig) error {
	exposed, bindings, err := portBindings(opts.Publish)
	if err != nil {
		return err
	}
	if len(bindings) == 0 {
		return nil
	}
	if opts.Forwarder != nil {
		// Forwards listen on 127.0.0.1 of this computer unless -p names
		// another address.
		for p, bs := range bindings {
			for i := range bs {
				if !bs[i].HostIP.IsValid() {
					bs[i].HostIP = netip.MustParseAddr("127.0.0.1")
				}
			}
			bindings[p] = bs
		}
	}
	cfg.ExposedPorts, hc.PortBindings = exposed, bindings
	return nil
}

// mounts sets the volumes of -v and the tmpfs mounts of --tmpfs.
func mounts(opts Options, cfg *ctypes.Config, hc *ctypes.HostConfig) {
	for _, v := range opts.Volumes {
		if strings.HasPrefix(v, "/") && !strings.Contains(v, ":") {
			// -v /PATH: a new anonymous volume, as docker run sends it.
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
			continue
		}
		hc.Binds = append(hc.Binds, v)
	}
	for _, t := range opts.Tmpfs {
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		target, o, _ := strings.Cut(t, ":")
		hc.Tmpfs[target] = o
	}
}
