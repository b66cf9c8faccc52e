package container

// HostSettings are the container settings of Docker's HostConfig beyond
// the basics: capabilities, init, kernel parameters, limits and devices.
type HostSettings struct {
	CapAdd     []string `json:"CapAdd,omitempty"`
	CapDrop    []string `json:"CapDrop,omitempty"`
	Privileged bool     `json:"Privileged,omitempty"`
	// Init runs a small init as PID 1 that reaps zombies and forwards
	// signals to the command (--init).
	Init    bool              `json:"Init,omitempty"`
	Sysctls map[string]string `json:"Sysctls,omitempty"`
	Ulimits []Ulimit          `json:"Ulimits,omitempty"`
	// ShmSize is the size of /dev/shm in bytes; zero: 64 MB.
	ShmSize int64    `json:"ShmSize,omitempty"`
	Devices []Device `json:"Devices,omitempty"`
	// StopSignal is the signal stop sends first (Config.StopSignal).
	StopSignal string `json:"StopSignal,omitempty"`
	// StopTimeout is stop's grace period in seconds when the client gives
	// none; nil: 10.
	StopTimeout *int     `json:"StopTimeout,omitempty"`
	GroupAdd    []string `json:"GroupAdd,omitempty"`
	OomScoreAdj int      `json:"OomScoreAdj,omitempty"`
	// Shell is Config.Shell (the image's SHELL): what CMD-SHELL health
	// checks run with; empty: /bin/sh -c.
	Shell []string `json:"Shell,omitempty"`
}

// Ulimit is a resource limit (--ulimit NAME=SOFT:HARD).
type Ulimit struct {
	Name string `json:"Name"`
	Soft int64  `json:"Soft"`
	Hard int64  `json:"Hard"`
}

// Device is a device node made in the container (--device).
type Device struct {
	PathOnHost        string `json:"PathOnHost"`
	PathInContainer   string `json:"PathInContainer"`
	CgroupPermissions string `json:"CgroupPermissions"`
	// Type is 'c' or 'b'; Major, Minor and Mode are the host node's.
	Type  byte   `json:"Type"`
	Major uint32 `json:"Major"`
	Minor uint32 `json:"Minor"`
	Mode  uint32 `json:"Mode"`
}
