package container

import (
	"time"

	"github.com/berthvm/berth/runtime/network"
)

// ImageConfig is the part of an OCI image configuration ("config" in the
// image's config JSON) that decides how a container's process runs.
type ImageConfig struct {
	User       string   `json:"User,omitempty"`
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

// Overrides are what the user asked for on top of the image configuration,
// as `docker run` flags give them.
type Overrides struct {
	// Entrypoint replaces the image's entrypoint and clears its Cmd when
	// non-nil; an empty (or [""]) slice means no entrypoint.
	Entrypoint []string
	// Cmd replaces the image's Cmd when non-empty.
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
	Hostname   string
	Tty        bool
}

// Resources are the cgroup limits of a container; zero means unlimited.
type Resources struct {
	Memory    int64 `json:"Memory,omitempty"`    // bytes
	NanoCPUs  int64 `json:"NanoCpus,omitempty"`  // 1e9 = one CPU
	PidsLimit int64 `json:"PidsLimit,omitempty"` // > 0 limits
}

// RestartPolicy says when the monitor starts a container again after its
// process exits: "no" (or ""), "on-failure" (up to MaximumRetryCount times
// when non-zero) or "always".
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount,omitempty"`
}

// Spec is everything needed to create a container. The image store fills
// LowerDirs and Image*; the caller fills the rest.
type Spec struct {
	ID      string    `json:"Id"`
	Name    string    `json:"Name"`
	Created time.Time `json:"Created"`

	Image   string `json:"Image"`   // the reference the user gave ("busybox")
	ImageID string `json:"ImageID"` // the image's config digest
	// LowerDirs are the unpacked layer folders, top-most layer FIRST
	// (overlayfs lowerdir order).
	LowerDirs []string `json:"LowerDirs"`

	// Config is the merged configuration (as `docker inspect` shows it).
	Config ImageConfig `json:"Config"`
	// Args is Entrypoint + Cmd after merging: the command to run.
	Args       []string `json:"Args"`
	Env        []string `json:"Env"`
	WorkingDir string   `json:"WorkingDir"`
	User       string   `json:"User"`
	Hostname   string   `json:"Hostname"`

	Tty bool `json:"Tty"`
	// ConsoleSize is the terminal's initial [height, width] with Tty; zero
	// leaves the kernel's default until the first resize.
	ConsoleSize [2]uint `json:"ConsoleSize,omitzero"`
	OpenStdin   bool    `json:"OpenStdin"`
	StdinOnce   bool    `json:"StdinOnce"`

	NoNewPrivileges bool `json:"NoNewPrivileges,omitempty"`
	// SeccompUnconfined runs the container without Docker's default
	// seccomp profile (--security-opt seccomp=unconfined).
	SeccompUnconfined bool `json:"SeccompUnconfined,omitempty"`
	// SeccompProfile is a profile in Docker's JSON format used instead of
	// the default one (--security-opt seccomp=FILE).
	SeccompProfile string            `json:"SeccompProfile,omitempty"`
	Resources      Resources         `json:"Resources"`
	RestartPolicy  RestartPolicy     `json:"RestartPolicy"`
	AutoRemove     bool              `json:"AutoRemove"`
	Labels         map[string]string `json:"Labels,omitempty"`
	// Ports are the published ports (-p).
	Ports []PortBinding `json:"Ports,omitempty"`
	// Mounts are volumes, bind mounts and tmpfs mounts (-v, --tmpfs).
	Mounts []Mount `json:"Mounts,omitempty"`
	// ReadonlyRootfs makes the root filesystem read-only (--read-only).
	ReadonlyRootfs bool `json:"ReadonlyRootfs,omitempty"`
	// NetworkMode is NetworkBridge, NetworkHost or NetworkNone (--network);
	// Create makes an empty one NetworkNone.
	NetworkMode string `json:"NetworkMode,omitempty"`
	// NetworkDir is the bridge network's folder, set by Create: where
	// the monitor attaches the container at each start.
	NetworkDir string `json:"NetworkDir,omitempty"`
	// Networks are the networks joined at each start (see Joined).
	Networks []NetworkRef `json:"Networks,omitempty"`
	// Links are --link NAME:ALIAS, resolved on the networks joined.
	Links []network.Link `json:"Links,omitempty"`
	// ExtraHosts are added to the container's /etc/hosts, whatever its
	// network mode (--add-host, host.docker.internal).
	ExtraHosts []network.Host `json:"ExtraHosts,omitempty"`
	// Healthcheck is the merged health check (image's + --health-*).
	Healthcheck *HealthConfig `json:"Healthcheck,omitempty"`
	HostSettings
}

// Network modes (--network).
const (
	NetworkBridge = "bridge" // own namespace, an address on the agent's bridge
	NetworkHost   = "host"   // the machine's network namespace
	NetworkNone   = "none"   // own namespace with loopback only
)
