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

// knownHosts is the pinned host key file: written when Create adopts the
// host, deleted by Remove. It is berth's record of the adoption.
func (d *Driver) knownHosts() string { return filepath.Join(d.base.Dir, sshutil.KnownHostsFile) }

// dial connects to the host, checking its key against hostKeys (pinning
// it at first contact).
func (d *Driver) dial(ctx context.Context, hostKeys *sshutil.HostKeys) (*sshutil.Client, error) {
	ep, _ := d.SSHEndpoint(ctx)
	t, err := sshutil.ForMachine(d.base.MachineName, d.base.Dir, ep)
	if err != nil {
		return nil, err
	}
	if hostKeys != nil {
		t.HostKeys = hostKeys
	}
	ctx, cancel := context.WithTimeout(ctx, reachTimeout)
	defer cancel()
	return sshutil.Dial(ctx, t)
}

// PreCreateCheck implements drivers.Driver: the key loads and the host
// answers SSH as the user. It changes nothing on the host or in the
// machine folder (the host key is checked against a throwaway file).
func (d *Driver) PreCreateCheck(ctx context.Context) error {
	tmp, err := os.MkdirTemp("", "berth-generic-check")
	if err != nil {
		return fmt.Errorf("%w: %w", drivers.ErrPreCreate, err)
	}
	defer os.RemoveAll(tmp)
	c, err := d.dial(ctx, &sshutil.HostKeys{Machine: d.base.MachineName, Path: filepath.Join(tmp, sshutil.KnownHostsFile)})
	if err != nil {
		return fmt.Errorf("%w: reach %s@%s:%d: %w", drivers.ErrPreCreate, d.SSHUser, d.IPAddress, d.SSHPort, err)
	}
	return c.Close()
}

// Create implements drivers.Driver: there is no VM to make; the host is
// adopted by pinning its SSH host key.
func (d *Driver) Create(ctx context.Context) error {
	c, err := d.dial(ctx, nil)
	if err != nil {
		return fmt.Errorf("adopt host %s: %w", d.IPAddress, err)
	}
	return c.Close()
}

// keepAgentKey marks a context whose Remove keeps the agent on the host.
type keepAgentKey struct{}

// WithKeepAgent makes Remove under ctx leave the agent installed
// (`berth rm --keep-agent`).
func WithKeepAgent(ctx context.Context) context.Context {
	return context.WithValue(ctx, keepAgentKey{}, true)
}

// Remove implements drivers.Driver: it uninstalls the agent from the host
// (unless ctx says WithKeepAgent), keeps the host, and forgets its key. A
// host that was never adopted has nothing of berth's to remove.
func (d *Driver) Remove(ctx context.Context) error {
	if _, err := os.Stat(d.knownHosts()); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if keep, _ := ctx.Value(keepAgentKey{}).(bool); !keep {
		c, err := d.dial(ctx, nil)
		if err != nil {
			return fmt.Errorf("remove the agent from %s: %w (`berth rm --keep-agent %s` leaves it there)", d.IPAddress, err, d.base.MachineName)
		}
		err = provision.Uninstall(ctx, c)
		c.Close()
		if err != nil {
			return fmt.Errorf("remove the agent from %s: %w", d.IPAddress, err)
		}
	}
	if err := os.Remove(d.knownHosts()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forget host %s: %w", d.IPAddress, err)
	}
	return nil
}

// State implements drivers.Driver: Running when the host answers SSH,
// else Error with the reason.
func (d *Driver) State(ctx context.Context) (drivers.State, error) {
	if _, err := os.Stat(d.knownHosts()); errors.Is(err, os.ErrNotExist) {
		return drivers.StateError, fmt.Errorf("host %s: %w (not adopted, or removed from berth)", d.IPAddress, drivers.ErrMachineNotExist)
	}
	c, err := d.dial(ctx, nil)
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
