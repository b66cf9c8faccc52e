// Package berthapi holds the types of the agent's own API under /berth/v1,
// shared by the agent that serves it and the CLI that reads it.
package berthapi

import "time"

// DockerAPIVersion is the Docker Engine API version the agent of this
// build serves at most (Docker 27.3 = 1.47): a client that knows the agent
// is of its own build uses it without asking (no _ping first).
const DockerAPIVersion = "1.47"

// EventsHeader, on a GET /events, asks the agent for berth's own event
// attributes (PublishesAttr), which Docker clients never see.
const EventsHeader = "Berth-Event-Attributes"

// PublishesAttr is the attribute of a container's create event, for
// clients that sent EventsHeader, that says whether the container
// publishes ports ("true" or "false"): the host agent learns it without
// inspecting every new container.
const PublishesAttr = "berth.publishes"

// Paths of the agent's own endpoints.
const (
	HealthPath  = "/berth/v1/health"
	VersionPath = "/berth/v1/version"
)

// Version answers VersionPath.
type Version struct {
	// Version is the agent's build version (version.Version).
	Version string `json:"version"`
	// APIVersion is the highest Docker Engine API version the agent serves.
	APIVersion string `json:"apiVersion"`
	GoVersion  string `json:"goVersion"`
	Os         string `json:"os"`
	Arch       string `json:"arch"`
}

// Health answers HealthPath: what the agent and its machine can do now.
type Health struct {
	Version string    `json:"version"`
	Pid     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Uptime is how long the agent has run, in seconds.
	Uptime float64 `json:"uptimeSeconds"`
	// Kernel is the machine's kernel release (uname -r).
	Kernel string `json:"kernel"`
	Arch   string `json:"arch"`
	// CgroupV2 says /sys/fs/cgroup is a cgroup2 mount; Controllers lists
	// the controllers its root offers.
	CgroupV2    bool     `json:"cgroupV2"`
	Controllers []string `json:"cgroupControllers"`
	// Overlay says the kernel knows the overlay filesystem.
	Overlay bool `json:"overlay"`
	// StateDir is where images and containers live (/var/lib/berth);
	// FreeBytes and TotalBytes describe its filesystem.
	StateDir   string `json:"stateDir"`
	FreeBytes  uint64 `json:"freeBytes"`
	TotalBytes uint64 `json:"totalBytes"`
	// Problems lists what keeps the machine from running containers
	// (empty when healthy).
	Problems []string `json:"problems"`
}

// Where the agent lives on every machine (berth-os and generic hosts).
const (
	// AgentPath is the agent binary: berth-os's supervisor runs it when it
	// exists, and berth's systemd unit runs it on other hosts.
	AgentPath = "/var/lib/berth/bin/berth-agent"
	// PidFile holds the running agent's pid.
	PidFile = "/run/berth/agent.pid"
	// InsecureRegistriesPath lists the registries (host[:port], one a
	// line) the agent may pull from over plain HTTP. The agent reads it at
	// every pull; provisioning writes it from the machine's settings.
	InsecureRegistriesPath = "/var/lib/berth/insecure-registries"
)
