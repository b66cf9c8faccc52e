package qemu

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/berthvm/berth/drivers"
)

// The guest architectures the driver makes machines for.
const (
	ArchAMD64 = drivers.ArchAMD64
	ArchARM64 = drivers.ArchARM64
)

// ErrNoFirmware means no UEFI firmware (edk2) for an arm64 guest was found.
var ErrNoFirmware = errors.New("no UEFI firmware (edk2) for arm64 guests found")

// HostArch is the architecture a new machine gets (drivers.HostArch).
func HostArch() string { return drivers.HostArch() }

// guestArch is the machine's architecture; machines made before berth
// knew more than one are amd64.
func (d *Driver) guestArch() string {
	if d.Arch == "" {
		return ArchAMD64
	}
	return d.Arch
}

// binaryFor is the qemu-system program of a guest architecture.
func binaryFor(arch string) string {
	if arch == ArchARM64 {
		return "qemu-system-aarch64"
	}
	return DefaultBinary
}

// firmwarePair is one place a UEFI firmware is installed: its code and the
// template of its variable store ("" when that installation has none: the
// machine then gets an empty store of the code's size).
type firmwarePair struct{ Code, Vars string }

// arm64Firmware lists where the edk2 firmware for QEMU's virt machine is
// installed: Debian and Ubuntu (qemu-efi-aarch64), Homebrew on Apple
// silicon and on Intel Macs, QEMU's own `make install`, Fedora.
var arm64Firmware = []firmwarePair{
	{"/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"},
	{"/opt/homebrew/share/qemu/edk2-aarch64-code.fd", "/opt/homebrew/share/qemu/edk2-arm-vars.fd"},
	{"/usr/local/share/qemu/edk2-aarch64-code.fd", "/usr/local/share/qemu/edk2-arm-vars.fd"},
	{"/usr/share/qemu/edk2-aarch64-code.fd", "/usr/share/qemu/edk2-arm-vars.fd"},
	{"/usr/share/edk2/aarch64/QEMU_EFI-pflash.raw", "/usr/share/edk2/aarch64/vars-template-pflash.raw"},
}

// findFirmware returns the firmware code and variable-store template for
// an arm64 guest: the one the user named (--qemu-firmware; its store
// template, if any, is looked for beside it), else the first installed
// one. Vars is "" when there is no template.
func findFirmware(named string) (firmwarePair, error) {
	if named != "" {
		if _, err := os.Stat(named); err != nil {
			return firmwarePair{}, fmt.Errorf("--qemu-firmware %s: %w", named, err)
		}
		for _, p := range arm64Firmware {
			if filepath.Base(p.Code) == filepath.Base(named) {
				if v := filepath.Join(filepath.Dir(named), filepath.Base(p.Vars)); exists(v) {
					return firmwarePair{named, v}, nil
				}
			}
		}
		return firmwarePair{Code: named}, nil
	}
	for _, p := range arm64Firmware {
		if exists(p.Code) {
			if !exists(p.Vars) {
				p.Vars = ""
			}
			return p, nil
		}
	}
	return firmwarePair{}, fmt.Errorf("%w: install it (Debian/Ubuntu: apt-get install qemu-efi-aarch64; macOS: brew install qemu) or name its code file with --qemu-firmware", ErrNoFirmware)
}

func exists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// makeVars gives an arm64 machine its own UEFI variable store (edk2 writes
// its boot entries there): a copy of the firmware's template, or an empty
// store of the firmware's size where there is none.
func (d *Driver) makeVars() error {
	fw, err := findFirmware(d.Firmware)
	if err != nil {
		return err
	}
	dst := d.path(VarsFile)
	if fw.Vars != "" {
		if err := copyFile(fw.Vars, dst); err != nil {
			return fmt.Errorf("uefi variable store: %w", err)
		}
		return nil
	}
	fi, err := os.Stat(fw.Code)
	if err != nil {
		return fmt.Errorf("uefi firmware: %w", err)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("uefi variable store: %w", err)
	}
	err = f.Truncate(fi.Size())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// copyFile copies src to a new dst (mode 0600).
func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o600)
}

// FindARM64Firmware returns the edk2 firmware code for QEMU's virt machine
// and the template of its variable store ("" when the installation has
// none): named (and the template beside it), else the first installed one.
// The VBoxManage double boots VirtualBox's arm VMs with it.
func FindARM64Firmware(named string) (code, vars string, err error) {
	fw, err := findFirmware(named)
	return fw.Code, fw.Vars, err
}
