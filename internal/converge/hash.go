package converge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// hashKeyOrder is the order of a service's top-level JSON keys in the
// text docker compose v5 hashes for com.docker.compose.config-hash:
// compose pins it (to the field order of an older compose-go) so that its
// hashes do not move when compose-go reorders fields; keys not listed go
// after these, sorted. Matching it lets `docker compose up` find berth's
// containers up to date.
var hashKeyOrder = []string{
	"profiles", "annotations", "attach", "build", "develop", "blkio_config",
	"cap_add", "cap_drop", "cgroup_parent", "cgroup", "cpu_count",
	"cpu_percent", "cpu_period", "cpu_quota", "cpu_rt_period",
	"cpu_rt_runtime", "cpus", "cpuset", "cpu_shares", "command", "configs",
	"container_name", "credential_spec", "depends_on", "deploy",
	"device_cgroup_rules", "devices", "dns", "dns_opt", "dns_search",
	"dockerfile", "domainname", "entrypoint", "provider", "environment",
	"env_file", "expose", "extends", "external_links", "extra_hosts",
	"group_add", "gpus", "hostname", "healthcheck", "image", "init", "ipc",
	"isolation", "labels", "label_file", "links", "logging", "log_driver",
	"log_opt", "mem_limit", "mem_reservation", "memswap_limit",
	"mem_swappiness", "mac_address", "models", "net", "network_mode",
	"networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit",
	"platform", "ports", "privileged", "pull_policy", "read_only",
	"restart", "runtime", "scale", "secrets", "security_opt", "shm_size",
	"stdin_open", "stop_grace_period", "stop_signal", "storage_opt",
	"sysctls", "tmpfs", "tty", "ulimits", "use_api_socket", "user",
	"userns_mode", "uts", "volume_driver", "volumes", "volumes_from",
	"working_dir", "pre_start", "post_start", "pre_stop",
	"pull_refresh_after",
}

// ServiceHash is a service's com.docker.compose.config-hash as docker
// compose v5 computes it: SHA-256 of the service's JSON without what
// does not need a new container (build, pull_policy, scale, replicas,
// depends_on, profiles), its top-level keys in hashKeyOrder.
func ServiceHash(s types.ServiceConfig) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	s.DependsOn = nil
	s.Profiles = nil
	raw, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	put := func(k string, v json.RawMessage) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		b.Write(v)
	}
	for _, k := range hashKeyOrder {
		if v, ok := fields[k]; ok {
			put(k, v)
			delete(fields, k)
		}
	}
	rest := make([]string, 0, len(fields))
	for k := range fields {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		put(k, fields[k])
	}
	b.WriteByte('}')
	return sum(b.Bytes()), nil
}

// NetworkHash is a network's config-hash as docker compose v5 computes it.
func NetworkHash(n types.NetworkConfig) (string, error) {
	raw, err := json.Marshal(&n)
	if err != nil {
		return "", err
	}
	return sum(raw), nil
}

// VolumeHash is a volume's config-hash as docker compose v5 computes it
// (no driver counts as "local").
func VolumeHash(v types.VolumeConfig) (string, error) {
	if v.Driver == "" {
		v.Driver = "local"
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return sum(raw), nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
