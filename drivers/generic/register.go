package generic

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/berthvm/berth/drivers"
)

// Flags are the driver's create flags.
var Flags = []drivers.Flag{
	{Name: "generic-ip-address", Usage: "the host's address or name (required)", EnvVar: "GENERIC_IP_ADDRESS", Kind: drivers.FlagString, Default: ""},
	{Name: "generic-ssh-user", Usage: "the SSH user: root, or a user with passwordless sudo", EnvVar: "GENERIC_SSH_USER", Kind: drivers.FlagString, Default: "root"},
	{Name: "generic-ssh-key", Usage: "the private key that user logs in with (required)", EnvVar: "GENERIC_SSH_KEY", Kind: drivers.FlagString, Default: ""},
	{Name: "generic-ssh-port", Usage: "the SSH port", EnvVar: "GENERIC_SSH_PORT", Kind: drivers.FlagInt, Default: 22},
}

func init() {
	drivers.Register(drivers.Registration{
		Name:        Name,
		Description: "an existing Linux host reached over SSH (systemd or berth-os); berth installs its agent there",
		Flags:       Flags,
		New:         func(base drivers.Base) drivers.Driver { return New(base) },
		Configure:   configure,
	})
}

// configure reads the create flags into d and names every bad one.
func configure(dd drivers.Driver, v drivers.FlagValues) error {
	d, ok := dd.(*Driver)
	if !ok {
		return fmt.Errorf("generic: configure got a %T", dd)
	}
	d.IPAddress = v.String("generic-ip-address")
	d.SSHUser = v.String("generic-ssh-user")
	d.SSHKey = v.String("generic-ssh-key")
	d.SSHPort = v.Int("generic-ssh-port")
	return d.validate()
}

func (d *Driver) validate() error {
	var errs []error
	if d.IPAddress == "" {
		errs = append(errs, errors.New("--generic-ip-address is required"))
	}
	if d.SSHUser == "" {
		errs = append(errs, errors.New("--generic-ssh-user must not be empty"))
	}
	if d.SSHKey == "" {
		errs = append(errs, errors.New("--generic-ssh-key is required"))
	} else if abs, err := filepath.Abs(d.SSHKey); err == nil {
		d.SSHKey = abs
	}
	if d.SSHPort < 1 || d.SSHPort > 65535 {
		errs = append(errs, fmt.Errorf("--generic-ssh-port %d: want 1 to 65535", d.SSHPort))
	}
	return errors.Join(errs...)
}
