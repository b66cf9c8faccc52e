package server

import (
	"net/http"
	"strings"

	"github.com/berthvm/berth/runtime/container"
	"github.com/berthvm/berth/runtime/seccomp"
)

// applySecurityOpts reads --security-opt values into spec:
// no-new-privileges[=true|:true], seccomp=unconfined and seccomp=PROFILE
// (the JSON the docker CLI reads from the file it is given). AppArmor and
// SELinux options are accepted and have no effect (berth-os has neither).
func applySecurityOpts(spec *container.Spec, opts []string) error {
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if !ok {
			k, v, _ = strings.Cut(o, ":")
		}
		switch {
		case k == "no-new-privileges" && (v == "" || v == "true"):
			spec.NoNewPrivileges = true
		case k == "no-new-privileges" && v == "false":
			spec.NoNewPrivileges = false
		case k == "seccomp" && v == "unconfined":
			spec.SeccompUnconfined = true
		case k == "seccomp":
			if _, err := seccomp.CompileProfile([]byte(v)); err != nil {
				return Errorf(http.StatusBadRequest, "invalid --security-opt seccomp: %v", err)
			}
			spec.SeccompProfile = v
		case k == "apparmor", k == "label":
		default:
			return Errorf(http.StatusBadRequest, "invalid --security-opt %q: berth takes no-new-privileges and seccomp=unconfined|PROFILE", o)
		}
	}
	return nil
}

// securityOpts are the --security-opt values of spec, as docker inspect
// shows them in HostConfig.SecurityOpt.
func securityOpts(spec container.Spec) []string {
	var out []string
	if spec.NoNewPrivileges {
		out = append(out, "no-new-privileges")
	}
	if spec.SeccompUnconfined {
		out = append(out, "seccomp=unconfined")
	}
	if spec.SeccompProfile != "" {
		out = append(out, "seccomp="+spec.SeccompProfile)
	}
	return out
}
