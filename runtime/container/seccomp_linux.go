package container

import (
	"fmt"

	"github.com/berthvm/berth/runtime/seccomp"
)

// seccompFilter is the filter a container's processes (init and exec)
// run under: Docker's default profile, the container's own, or none with
// seccomp=unconfined.
func seccompFilter(spec Spec) ([]byte, error) {
	if spec.SeccompUnconfined {
		return nil, nil
	}
	if spec.SeccompProfile != "" {
		f, err := seccomp.CompileProfile([]byte(spec.SeccompProfile))
		if err != nil {
			return nil, fmt.Errorf("seccomp profile of the container: %w", err)
		}
		return f, nil
	}
	f, err := seccomp.DefaultFilter()
	if err != nil {
		return nil, fmt.Errorf("seccomp profile: %w (run with --security-opt seccomp=unconfined to go without)", err)
	}
	return f, nil
}
