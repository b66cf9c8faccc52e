// Package generic is the driver for an existing Linux host reached over
// SSH (a server, a cloud VM, a Raspberry Pi): berth adopts it, puts its
// agent there, and leaves the host itself alone.
package generic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/provision"
	"github.com/berthvm/berth/sshutil"
)

// Name is the driver's registered name.
const Name = "generic"

// NoLifecycle is why generic machines have no start, stop or kill.
const NoLifecycle = "a generic machine is started and stopped outside berth"

// reachTimeout bounds one attempt to reach the host (State, PreCreateCheck).
const reachTimeout = 15 * time.Second

// Driver adopts an existing host. It has no Lifecycle role: the host is
// started and stopped outside berth.
type Driver struct {
	IPAddress string // host name or address
	SSHPort   int
	SSHUser   string
	SSHKey    string // absolute path of the private key

	base drivers.Base
}

// New makes a driver for the machine in base.
func New(base drivers.Base) *Driver {
	return &Driver{SSHPort: 22, SSHUser: "root", base: base}
}

// DriverName implements drivers.Driver.
func (d *Driver) DriverName() string { return Name }

// Capabilities implements drivers.Driver: no optional roles. What the host
// keeps under /var/lib/berth survives its reboots.
func (d *Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{KeepsDataOnRestart: true}
}

// WhyNoLifecycle says why start, stop and kill do not apply.
func (d *Driver) WhyNoLifecycle() string { return NoLifecycle }

// target is how to reach the host over SSH.
func (d *Driver) target() (sshutil.Target, error) {
	ep, _ := d.SSHEndpoint(context.Background())
	return sshutil.ForMachine(d.base.MachineName, d.base.Dir, ep)
}

// dial connects to the host, pinning its host key at first contact.
func (d *Driver) dial(ctx context.Context) (*sshutil.Client, error) {
	t, err := d.target()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	return sshutil.Dial(ctx, t)
}

// PreCreateCheck implements drivers.Driver: the key loads and the host
// answers SSH as the user. It changes nothing on the host.
func (d *Driver) PreCreateCheck(ctx context.Context) error {
	c, err := d.dial(ctx)
	if err != nil {
		return fmt.Errorf("%w: reach %s@%s:%d: %w", drivers.ErrPreCreate, d.SSHUser, d.IPAddress, d.SSHPort, err)
	}
	return c.Close()
}

// Create implements drivers.Driver: there is no VM to make.
func (d *Driver) Create(ctx context.Context) error { return nil }

// keepAgentKey marks a context whose Remove keeps the agent on the host.
type keepAgentKey struct{}

// WithKeepAgent makes Remove under ctx leave the agent installed
// (`berth rm --keep-agent`).
func WithKeepAgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, keepAgentKey{}, true)
}

// Remove implements drivers.Driver: it uninstalls the agent from the host
// (unless ctx says WithKeepAgent) and keeps the host. A host that was never
// reached (no pinned host key) has nothing of berth's to remove.
func (d *Driver) Remove(ctx context.Context) error {
	if keep, _ := ctx.Value(keepAgentKey{}).(bool); keep {
		return nil
	}
	if _, err := os.Stat(filepath.Join(d.base.Dir, "known_hosts")); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	c, err := d.dial(ctx)
	if err != nil {
		return fmt.Errorf("remove the agent from %s: %w (`berth rm --keep-agent %s` leaves it there)", d.IPAddress, err, d.base.MachineName)
	}
	defer c.Close()
	if err := provision.Uninstall(ctx, c); err != nil {
		return fmt.Errorf("remove the agent from %s: %w", d.IPAddress, err)
	}
	return nil
}

// State implements drivers.Driver: Running when the host answers SSH,
// else Error with the reason.
func (d *Driver) State(ctx context.Context) (drivers.State, error) {
	c, err := d.dial(ctx)
	if err != nil {
		return drivers.StateError, fmt.Errorf("host %s does not answer: %w", d.IPAddress, err)
	}
	c.Close()
	return drivers.StateRunning, nil
}

// SSHEndpoint implements drivers.Driver.
func (d *Driver) SSHEndpoint(ctx context.Context) (drivers.Endpoint, error) {
	return drivers.Endpoint{Host: d.IPAddress, Port: d.SSHPort, User: d.SSHUser, KeyPath: d.SSHKey}, nil
}
