package runspec

import (
	"fmt"
	"strings"

	"github.com/docker/go-units"
	ctypes "github.com/moby/moby/api/types/container"
)

// limits sets the resource limits: --memory, --cpus and --pids-limit.
func limits(opts Options, hc *ctypes.HostConfig) error {
	if opts.Memory != "" {
		n, err := units.RAMInBytes(opts.Memory)
		if err != nil || n <= 0 {
			return invalidf("invalid --memory %q: give bytes like 64m or 1g", opts.Memory)
		}
		hc.Memory = n
	}
	if opts.CPUs < 0 {
		return invalidf("invalid --cpus %v: must be positive", opts.CPUs)
	}
	hc.NanoCPUs = int64(opts.CPUs * 1e9)
	if opts.PidsLimit != 0 {
		n := opts.PidsLimit
		hc.PidsLimit = &n
	}
	return nil
}

// restartPolicy reads --restart: no, always, unless-stopped,
// on-failure[:N]. A policy that restarts conflicts with --rm (remove).
func restartPolicy(restart string, remove bool) (ctypes.RestartPolicy, error) {
	var p ctypes.RestartPolicy
	policy, max, _ := strings.Cut(restart, ":")
	switch policy {
	case "", "no", "always", "unless-stopped", "on-failure":
	default:
		return p, invalidf("invalid --restart %q: use no, on-failure[:N] or always", restart)
	}
	p.Name = ctypes.RestartPolicyMode(policy)
	if max != "" {
		if _, err := fmt.Sscanf(max, "%d", &p.MaximumRetryCount); err != nil || policy != "on-failure" {
			return p, invalidf("invalid --restart %q: only on-failure takes a count", restart)
		}
	}
	if remove && policy != "" && policy != "no" {
		return p, invalidf("--rm and --restart %s conflict", policy)
	}
	return p, nil
}
