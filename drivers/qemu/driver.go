// Package qemu is the berth driver that runs machines as QEMU processes
// with user-mode networking, a qcow2 data disk and a QMP control socket.
package qemu

import (
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
	BootFile    = "boot.iso" // the berth-os ISO, linked or copied from the cache
	SeedFile    = "seed.iso"
	PIDFile     = "qemu.pid"
	QMPFile     = "qmp.sock"
	ConsoleFile = "serial.log"
)

// Files lists every file name the driver may leave in a machine folder.
var Files = []string{DiskFile, BootFile, SeedFile, PIDFile, QMPFile, ConsoleFile}

// Defaults of the create flags.
const (
	DefaultCPUs       = 2
	DefaultMemoryMB   = 2048
	DefaultDiskSizeMB = 20000
	DefaultBinary     = "qemu-system-x86_64"
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
	// AccelRequested is the --qemu-accel value; Accel is what it resolved
	// to at create time (auto becomes kvm, hvf, whpx or tcg).
	AccelRequested string
	Accel          string
	Binary         string
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
		Binary:         DefaultBinary,
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
	return program{name: d.Binary, hint: hostHint}
}

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
