// Package runspec turns docker-run style options into the agent's
// container config.
package runspec

import "github.com/berthvm/berth/drivers"

// Options are the options of a container run, as `docker run` takes them.
type Options struct {
	Image      string
	Args       []string
	Detach     bool
	Remove     bool
	Interact   bool
	TTY        bool
	Env        []string
	EnvFiles   []string
	Name       string
	Workdir    string
	User       string
	Entrypoint *string
	Hostname   string
	Memory     string
	CPUs       float64
	PidsLimit  int64
	Restart    string
	Publish    []string // -p values
	PublishAll bool     // -P
	Volumes    []string // -v NAME:/path, /machine/path:/path[:ro] or /path (anonymous)
	Tmpfs      []string // --tmpfs /path
	ReadOnly   bool     // --read-only
	Network    string   // --network bridge|host|none; "" is the agent's default (bridge)
	Security   []string // --security-opt: no-new-privileges, seccomp=unconfined
	Platform   string   // --platform OS/ARCH[/VARIANT]; "" is the machine's
	// Forwarder adds the host forwards of published ports; nil when the
	// machine needs none. With one, published ports listen on 127.0.0.1
	// of this computer unless -p names another address.
	Forwarder drivers.PortForwarder
}
