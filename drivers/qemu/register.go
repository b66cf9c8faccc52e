package qemu

import (
	"errors"
	"fmt"

	"github.com/berthvm/berth/drivers"
)

// Accelerators lists the --qemu-accel values.
var Accelerators = []string{"auto", "kvm", "hvf", "whpx", "tcg"}

// Flags are the driver's create flags.
var Flags = []drivers.Flag{
	{Name: "qemu-cpus", Usage: "virtual CPUs", EnvVar: "BERTH_QEMU_CPUS", Kind: drivers.FlagInt, Default: DefaultCPUs},
	{Name: "qemu-memory", Usage: "memory in MB", EnvVar: "BERTH_QEMU_MEMORY", Kind: drivers.FlagInt, Default: DefaultMemoryMB},
	{Name: "qemu-disk-size", Usage: "data disk size in MB (a qcow2 file that grows as it fills)", EnvVar: "BERTH_QEMU_DISK_SIZE", Kind: drivers.FlagInt, Default: DefaultDiskSizeMB},
	{Name: "qemu-iso", Usage: "berth-os ISO to boot: a path or an http(s) URL (downloaded once, checked against URL.sha256); default: `make iso` output or the newest ISO in the cache", EnvVar: "BERTH_QEMU_ISO", Kind: drivers.FlagString, Default: ""},
	{Name: "qemu-accel", Usage: "accelerator: auto (kvm, hvf or whpx when a test boot works, else tcg), kvm, hvf, whpx or tcg", EnvVar: "BERTH_QEMU_ACCEL", Kind: drivers.FlagString, Default: "auto"},
	{Name: "qemu-boot", Usage: "how QEMU boots an amd64 berth-os: kernel (the ISO's kernel and initramfs directly: faster) or iso (firmware and isolinux from the CD); arm64 always boots by UEFI", EnvVar: "BERTH_QEMU_BOOT", Kind: drivers.FlagString, Default: BootKernel},
	{Name: "qemu-binary", Usage: "qemu-system program (name on PATH or path); default: qemu-system-x86_64 or qemu-system-aarch64, as the machine's architecture", EnvVar: "BERTH_QEMU_BINARY", Kind: drivers.FlagString, Default: ""},
	{Name: "qemu-firmware", Usage: "UEFI firmware code an arm64 machine boots (edk2 for QEMU's virt machine); default: where Debian (qemu-efi-aarch64) or Homebrew (qemu) installs it", EnvVar: "BERTH_QEMU_FIRMWARE", Kind: drivers.FlagString, Default: ""},
}

func init() {
	drivers.Register(drivers.Registration{
		Name:        Name,
		Description: "a local QEMU VM (KVM, HVF or WHPX when available, else software emulation)",
		Flags:       Flags,
		New:         func(base drivers.Base) drivers.Driver { return New(base) },
		Configure:   configure,
	})
}

// configure reads the create flags into d and names every bad one.
func configure(dd drivers.Driver, v drivers.FlagValues) error {
	d, ok := dd.(*Driver)
	if !ok {
		return fmt.Errorf("qemu: configure got a %T", dd)
	}
	d.CPUs = v.Int("qemu-cpus")
	d.MemoryMB = v.Int("qemu-memory")
	d.DiskSizeMB = v.Int("qemu-disk-size")
	d.ISOSource = v.String("qemu-iso")
	d.AccelRequested = v.String("qemu-accel")
	d.Binary = v.String("qemu-binary")
	d.Boot = v.String("qemu-boot")
	d.Firmware = v.String("qemu-firmware")
	return d.validate()
}

// validate names every bad setting at once.
func (d *Driver) validate() error {
	var errs []error
	if d.CPUs < 1 || d.CPUs > 64 {
		errs = append(errs, fmt.Errorf("--qemu-cpus %d: want 1 to 64", d.CPUs))
	}
	if d.MemoryMB < 256 {
		errs = append(errs, fmt.Errorf("--qemu-memory %d: want at least 256 (MB)", d.MemoryMB))
	}
	if d.DiskSizeMB < 100 {
		errs = append(errs, fmt.Errorf("--qemu-disk-size %d: want at least 100 (MB)", d.DiskSizeMB))
	}
	known := false
	for _, a := range Accelerators {
		known = known || a == d.AccelRequested
	}
	if !known {
		errs = append(errs, fmt.Errorf("--qemu-accel %q: want one of %v", d.AccelRequested, Accelerators))
	}
	if d.Boot != "" && d.Boot != BootKernel && d.Boot != BootISO {
		errs = append(errs, fmt.Errorf("--qemu-boot %q: want %s or %s", d.Boot, BootKernel, BootISO))
	}
	return errors.Join(errs...)
}
