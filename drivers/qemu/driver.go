// Package qemu is the berth driver that runs machines as QEMU processes
// with user-mode networking, a qcow2 data disk and a QMP control socket.
package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
)

// Name is the driver's registered name.
const Name = "qemu"

// The files the driver keeps in the machine folder.
const (
	DiskFile    = "disk.qcow2"
	BootFile    = "boot.iso"     // the berth-os ISO, linked or copied from the cache
	OldBootFile = "boot.old.iso" // the ISO an upgrade replaced, until the new one booted
	NewBootFile = "boot.new.iso" // the ISO an upgrade brings, while it is put in place
	SeedFile    = "seed.iso"
	PIDFile     = "qemu.pid"
	QMPFile     = "qmp.sock"
	ConsoleFile = "serial.log"
	VarsFile    = "efivars.fd" // an arm64 machine's own UEFI variable store
)

// Files lists every file name the driver may leave in a machine folder.
var Files = []string{DiskFile, BootFile, OldBootFile, NewBootFile, SeedFile, PIDFile, QMPFile, ConsoleFile, VarsFile}

// Defaults of the create flags.
const (
	DefaultCPUs       = 2
	DefaultMemoryMB   = 2048
	DefaultDiskSizeMB = 20000
	// DefaultBinary is the qemu-system program of amd64 guests; arm64
	// guests run in qemu-system-aarch64 (see binaryFor).
	DefaultBinary = "qemu-system-x86_64"
)

// The Boot values.
const (
	BootKernel = "kernel"
	BootISO    = "iso"
)

// DefaultStopTimeout is how long Stop waits for the guest to power off
// before it kills QEMU.
const DefaultStopTimeout = 90 * time.Second

// Driver runs one machine under QEMU. Its exported fields are the
// machine's settings, saved in the machine's config.json.
type Driver struct {
	CPUs       int
	MemoryMB   int
	DiskSizeMB int
	// ISOSource is what the user asked for: a path, a URL or "" for the
	// default berth-os ISO.
	ISOSource string `json:",omitempty"`
	// ISOVersion is the volume id of the ISO the machine boots, which
	// Create links or copies into the machine folder as boot.iso.
	ISOVersion string `json:",omitempty"`
	// ISOSHA256 is the SHA-256 of boot.iso, which keys the kernel and
	// initramfs taken out of it into the cache. A machine made before
	// berth recorded it gets it at its next start.
	ISOSHA256 string `json:",omitempty"`
	// PreviousISO is the ISO `berth upgrade` replaced, kept as
	// boot.old.iso until the machine booted the new one; nil otherwise.
	PreviousISO *ISORecord `json:",omitempty"`
	// Boot is how QEMU boots the machine: BootKernel ("" too) boots the
	// ISO's kernel and initramfs directly, BootISO through the firmware
	// and isolinux from the CD.
	Boot string `json:",omitempty"`
	// AccelRequested is the --qemu-accel value; Accel is what it resolved
	// to at create time (auto becomes kvm, hvf, whpx or tcg).
	AccelRequested string
	Accel          string
	// Binary is the --qemu-binary value; "" means the guest
	// architecture's qemu-system program.
	Binary string
	// Arch is the guest architecture, amd64 or arm64 (see HostArch); ""
	// in machines made before there were two, which are amd64.
	Arch string `json:",omitempty"`
	// Firmware is the --qemu-firmware value: the UEFI code an arm64 guest
	// boots; "" means the first one installed where Debian or Homebrew
	// put it, looked for at every start.
	Firmware string `json:",omitempty"`
	// SSHPort is the host port forwarded to the guest's SSH server. Start
	// keeps it while it is free and picks another one otherwise.
	SSHPort    int
	InstanceID string

	base drivers.Base
	// img and sys run qemu-img and qemu-system; nil means the real ones.
	img, sys runner
	// StopTimeout overrides DefaultStopTimeout when positive.
	stopTimeout time.Duration
	// progress receives ISO download progress during Create.
	progress func(isocache.Progress)
}

// New makes a driver for the machine in base with the default settings.
func New(base drivers.Base) *Driver {
	return &Driver{
		base:           base,
		CPUs:           DefaultCPUs,
		MemoryMB:       DefaultMemoryMB,
		DiskSizeMB:     DefaultDiskSizeMB,
		AccelRequested: "auto",
		Arch:           HostArch(),
	}
}

// Compile-time checks of the roles the driver has.
var (
	_ drivers.Driver        = (*Driver)(nil)
	_ drivers.Lifecycle     = (*Driver)(nil)
	_ drivers.PortForwarder = (*Driver)(nil)
	_ drivers.SharedFolders = (*Driver)(nil)
)

// DriverName returns "qemu".
func (d *Driver) DriverName() string { return Name }

// Capabilities says what the QEMU driver can do.
func (d *Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{Lifecycle: true, PortForwarding: true, SharedFolders: true, KeepsDataOnRestart: true}
}

// Shares returns the machine's shared folders, each a virtio-9p device
// that berth-os mounts at boot (see Args and the seed's mounts).
func (d *Driver) Shares() []drivers.Share { return d.base.Shares }

// SetDownloadProgress makes Create report the progress of an ISO
// download to fn.
func (d *Driver) SetDownloadProgress(fn func(isocache.Progress)) { d.progress = fn }

// SetStopTimeout changes how long Stop waits for the guest to power off.
func (d *Driver) SetStopTimeout(t time.Duration) { d.stopTimeout = t }

func (d *Driver) path(name string) string { return filepath.Join(d.base.Dir, name) }

func (d *Driver) qemuSystem() runner {
	if d.sys != nil {
		return d.sys
	}
	name := d.Binary
	if name == "" {
		name = binaryFor(d.guestArch())
	}
	return program{name: name, hint: hostHint}
}

// SetArch makes the machine's guest architecture arch (amd64 or arm64).
func (d *Driver) SetArch(arch string) error {
	if arch != ArchAMD64 && arch != ArchARM64 {
		return fmt.Errorf("--arch %q: want amd64 or arm64", arch)
	}
	d.Arch = arch
	return nil
}

// GuestArch is the machine's architecture.
func (d *Driver) GuestArch() string { return d.guestArch() }

// qemuImg is qemu-img from the folder of a --qemu-binary given as a path
// (the Windows installer puts both there), else from PATH.
func (d *Driver) qemuImg() runner {
	if d.img != nil {
		return d.img
	}
	name := "qemu-img"
	if filepath.IsAbs(d.Binary) {
		beside := filepath.Join(filepath.Dir(d.Binary), "qemu-img"+filepath.Ext(d.Binary))
		if _, err := os.Stat(beside); err == nil {
			name = beside
		}
	}
	return program{name: name, hint: hostHint}
}
