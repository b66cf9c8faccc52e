package virtualbox

import (
	"fmt"
	"strings"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
)

// The guest architectures the driver makes machines for.
const (
	ArchAMD64 = drivers.ArchAMD64
	ArchARM64 = drivers.ArchARM64
)

// HostArch is the architecture a new machine gets (drivers.HostArch).
func HostArch() string { return drivers.HostArch() }

// guestArch is the VM's architecture; VMs made before berth knew more
// than one are amd64.
func (d *Driver) guestArch() string {
	if d.Arch == "" {
		return ArchAMD64
	}
	return d.Arch
}

// SetArch makes the VM's architecture arch (amd64 or arm64): create
// --arch.
func (d *Driver) SetArch(arch string) error {
	if arch != ArchAMD64 && arch != ArchARM64 {
		return fmt.Errorf("--arch %q: want amd64 or arm64", arch)
	}
	d.Arch = arch
	return nil
}

// GuestArch is the VM's architecture.
func (d *Driver) GuestArch() string { return d.guestArch() }

// ForeignArchNote is what create says of a VM that is not of this
// computer's architecture: VirtualBox does not emulate another CPU.
func (d *Driver) ForeignArchNote(hostArch string) string {
	return fmt.Sprintf("VirtualBox runs %s VMs only on %s computers (arm64: VirtualBox 7.1 or newer) and does not emulate another CPU: "+
		"on this %s computer expect VirtualBox to refuse this VM (-d qemu emulates an %s machine, slowly)", d.guestArch(), d.guestArch(), hostArch, d.guestArch())
}

// arm reports whether the VM is on VirtualBox's arm platform.
func (d *Driver) arm() bool { return d.guestArch() == ArchARM64 }

// armNICTypes are the NIC models VirtualBox emulates on its arm platform
// (IPlatformProperties::SupportedNetworkAdapterTypes): no AMD PCnet there.
var armNICTypes = []string{"82540EM", "82543GC", "82545EM", "virtio"}

// checkARM refuses what an arm VM cannot have: a VirtualBox older than
// 7.1 (the first with the arm platform and createvm
// --platform-architecture) and a PCnet NIC.
func (d *Driver) checkARM(v vboxmanage.Version) error {
	if !v.AtLeast(7, 1) {
		return fmt.Errorf("VirtualBox %s cannot make arm64 VMs: install VirtualBox 7.1 or newer (or use --driver qemu)", v)
	}
	for _, t := range armNICTypes {
		if t == d.NICType {
			return nil
		}
	}
	return fmt.Errorf("--virtualbox-nic-type %s: VirtualBox has no such NIC for arm64 VMs; want one of %s", d.NICType, strings.Join(armNICTypes, ", "))
}
