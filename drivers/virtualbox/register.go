package virtualbox

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// The defaults of the create flags.
const (
	defaultCPUs     = 1
	defaultMemoryMB = 1024
	defaultDiskMB   = 20000
	defaultNICType  = "82540EM"
	defaultUIType   = "headless"
)

// nicTypes are the NIC models VirtualBox emulates (modifyvm --nictype).
var nicTypes = []string{"Am79C970A", "Am79C973", "Am79C960", "82540EM", "82543GC", "82545EM", "virtio"}

// uiTypes are the startvm frontends berth offers.
var uiTypes = []string{"headless", "gui", "separate"}

// Flags are the driver's create flags, each also read from its environment
// variable (docker-machine's names).
var Flags = []drivers.Flag{
	{Name: "virtualbox-cpu-count", EnvVar: "VIRTUALBOX_CPU_COUNT", Kind: drivers.FlagInt, Default: defaultCPUs, Usage: "number of CPUs of the VM"},
	{Name: "virtualbox-memory", EnvVar: "VIRTUALBOX_MEMORY_SIZE", Kind: drivers.FlagInt, Default: defaultMemoryMB, Usage: "memory of the VM in MB"},
	{Name: "virtualbox-disk-size", EnvVar: "VIRTUALBOX_DISK_SIZE", Kind: drivers.FlagInt, Default: defaultDiskMB, Usage: "size of the data disk in MB"},
	{Name: "virtualbox-iso", EnvVar: "VIRTUALBOX_ISO", Kind: drivers.FlagString, Default: "", Usage: "berth-os ISO to boot (default: $BERTH_ISO, then the cached one)"},
	{Name: "virtualbox-nic-type", EnvVar: "VIRTUALBOX_NIC_TYPE", Kind: drivers.FlagString, Default: defaultNICType, Usage: "NIC model: " + strings.Join(nicTypes, ", ")},
	{Name: "virtualbox-hostonly-cidr", EnvVar: "VIRTUALBOX_HOSTONLY_CIDR", Kind: drivers.FlagString, Default: "", Usage: "add a host-only network with this host address, inside 192.168.56.0/21 (e.g. 192.168.59.1/24); off by default"},
	{Name: "virtualbox-ui-type", EnvVar: "VIRTUALBOX_UI_TYPE", Kind: drivers.FlagString, Default: defaultUIType, Usage: "VM window: headless, gui or separate"},
	{Name: "virtualbox-no-vtx-check", EnvVar: "VIRTUALBOX_NO_VTX_CHECK", Kind: drivers.FlagBool, Default: false, Usage: "skip the check for VT-x/AMD-V before create"},
}

func init() {
	drivers.Register(drivers.Registration{
		Name:        Name,
		Description: "a VirtualBox VM (VirtualBox 5.0 or newer)",
		Flags:       Flags,
		New:         func(base drivers.Base) drivers.Driver { return New(base) },
		Configure:   configure,
	})
}

// configure reads the create flags into d and names every bad one at once.
func configure(dd drivers.Driver, v drivers.FlagValues) error {
	d, ok := dd.(*Driver)
	if !ok {
		return fmt.Errorf("configure virtualbox driver: got a %T", dd)
	}
	d.CPUs = v.Int("virtualbox-cpu-count")
	d.MemoryMB = v.Int("virtualbox-memory")
	d.DiskMB = v.Int("virtualbox-disk-size")
	d.ISO = v.String("virtualbox-iso")
	d.NICType = v.String("virtualbox-nic-type")
	d.HostOnlyCIDR = v.String("virtualbox-hostonly-cidr")
	d.UIType = v.String("virtualbox-ui-type")
	d.NoVTXCheck = v.Bool("virtualbox-no-vtx-check")
	return d.validate()
}

// validate checks the settings and names every bad one.
func (d *Driver) validate() error {
	var errs []error
	if d.CPUs < 1 || d.CPUs > 32 {
		errs = append(errs, fmt.Errorf("--virtualbox-cpu-count %d: want 1 to 32", d.CPUs))
	}
	if d.MemoryMB < 256 {
		errs = append(errs, fmt.Errorf("--virtualbox-memory %d: want at least 256 (MB)", d.MemoryMB))
	}
	if d.DiskMB < 100 {
		errs = append(errs, fmt.Errorf("--virtualbox-disk-size %d: want at least 100 (MB)", d.DiskMB))
	}
	if i := slices.IndexFunc(nicTypes, func(t string) bool { return strings.EqualFold(t, d.NICType) }); i < 0 {
		errs = append(errs, fmt.Errorf("--virtualbox-nic-type %q: want one of %s", d.NICType, strings.Join(nicTypes, ", ")))
	} else {
		d.NICType = nicTypes[i]
	}
	if !slices.Contains(uiTypes, d.UIType) {
		errs = append(errs, fmt.Errorf("--virtualbox-ui-type %q: want one of %s", d.UIType, strings.Join(uiTypes, ", ")))
	}
	if d.HostOnlyCIDR != "" {
		if _, err := parseHostOnlyCIDR(d.HostOnlyCIDR); err != nil {
			errs = append(errs, fmt.Errorf("--virtualbox-hostonly-cidr: %w", err))
		}
	}
	return errors.Join(errs...)
}
