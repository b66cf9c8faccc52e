package qemu

import (
	"fmt"
	"strconv"
	"strings"
)

// Spec is everything that shapes the qemu-system command line of one
// machine. Paths are used as given.
type Spec struct {
	Name  string // machine name, shown in the process list
	Arch  string // guest architecture: amd64 ("" too) or arm64
	Accel string // kvm, hvf, whpx or tcg
	// Firmware and Vars are the UEFI code (read only) and the machine's own
	// variable store of an arm64 guest.
	Firmware, Vars string
	CPUs           int
	MemoryMB       int
	ISO            string // the berth-os boot ISO
	// Kernel, Initrd and Append, when Kernel is set, boot the kernel and
	// initramfs taken out of the ISO directly (-kernel, -initrd, -append)
	// instead of through the firmware and isolinux reading the CD; the ISO
	// stays attached as a CD. amd64 only: an arm64 guest boots by UEFI.
	Kernel, Initrd, Append string
	// BIOS, with Kernel, is the firmware that starts it (-bios): a file
	// name QEMU looks up in its data folders. "" keeps QEMU's SeaBIOS.
	BIOS      string
	Seed      string // the NoCloud seed ISO
	Disk      string // the qcow2 data disk
	SSHPort   int    // host port on 127.0.0.1 forwarded to the guest's 22
	QMP       string // unix socket path of the QMP server
	PIDFile   string
	Console   string // file that receives the serial console
	Daemonize bool   // QEMU forks and detaches once it has started
	// Shares become virtio-9p devices.
	Shares []Share
}

// Share is one virtio-9p export: the host folder Dir under mount tag Tag.
type Share struct {
	Tag string // drivers.ShareTag of the share's index in the machine
	Dir string
}

// NetdevID is the id of the user-mode network, named by host forwards.
const NetdevID = "n0"

// Args builds the qemu-system arguments for s. It is a plain function so
// that the whole command line is tested as data.
func Args(s Spec) []string {
	if s.Arch == ArchARM64 {
		return argsARM64(s)
	}
	args := []string{
		"-name", "berth-" + s.Name,
		"-machine", "pc",
		"-accel", s.Accel,
	}
	if s.Accel != "tcg" {
		// The host CPU model is only available with a hypervisor.
		args = append(args, "-cpu", "host")
	}
	args = append(args,
		"-smp", strconv.Itoa(s.CPUs),
		"-m", strconv.Itoa(s.MemoryMB),
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-chardev", "file,id=console,path="+esc(s.Console),
		"-serial", "chardev:console",
	)
	if s.Kernel != "" {
		// Nothing boots from the ISO: it and the seed are read-only virtio
		// disks (berth-os finds both by their volume ids), after the data
		// disk (vda). The guest then needs no IDE and CD-ROM drivers, and
		// reads them much faster than through emulated ATAPI.
		args = append(args,
			"-drive", "file="+esc(s.Disk)+",format=qcow2,if=virtio,discard=unmap",
			"-drive", "file="+esc(s.ISO)+",format=raw,readonly=on,if=virtio",
			"-drive", "file="+esc(s.Seed)+",format=raw,readonly=on,if=virtio",
			"-kernel", s.Kernel, "-initrd", s.Initrd, "-append", s.Append)
		if s.BIOS != "" {
			args = append(args, "-bios", s.BIOS)
		}
	} else {
		args = append(args,
			"-drive", "file="+esc(s.ISO)+",media=cdrom,readonly=on,if=ide,index=0",
			"-drive", "file="+esc(s.Seed)+",media=cdrom,readonly=on,if=ide,index=1",
			"-drive", "file="+esc(s.Disk)+",format=qcow2,if=virtio,discard=unmap",
			"-boot", "order=d")
	}
	args = append(args,
		"-netdev", fmt.Sprintf("user,id=%s,hostfwd=tcp:127.0.0.1:%d-:22", NetdevID, s.SSHPort),
		"-device", "virtio-net-pci,netdev="+NetdevID,
		"-device", "virtio-rng-pci",
	)
	return tail(args, s)
}

// argsARM64 is the command line of an arm64 guest: QEMU's virt machine
// booted by UEFI (edk2 in two flash devices: the firmware, read only, and
// the machine's variable store), the CDs on virtio-scsi (virt has no IDE),
// the disk and the NIC on virtio-pci. Without a hypervisor the CPU is
// "max" (every feature TCG emulates), with one the host's.
func argsARM64(s Spec) []string {
	cpu := "host"
	if s.Accel == "tcg" {
		cpu = "max"
	}
	args := []string{
		"-name", "berth-" + s.Name,
		"-machine", "virt",
		"-accel", s.Accel,
		"-cpu", cpu,
		"-smp", strconv.Itoa(s.CPUs),
		"-m", strconv.Itoa(s.MemoryMB),
		"-nodefaults", "-no-user-config",
		"-display", "none",
		"-drive", "if=pflash,format=raw,unit=0,readonly=on,file=" + esc(s.Firmware),
		"-drive", "if=pflash,format=raw,unit=1,file=" + esc(s.Vars),
		"-chardev", "file,id=console,path=" + esc(s.Console),
		"-serial", "chardev:console",
		"-device", "virtio-scsi-pci,id=scsi0",
		"-drive", "file=" + esc(s.ISO) + ",media=cdrom,readonly=on,if=none,id=cd0",
		"-device", "scsi-cd,drive=cd0,bus=scsi0.0,bootindex=0",
		"-drive", "file=" + esc(s.Seed) + ",media=cdrom,readonly=on,if=none,id=cd1",
		"-device", "scsi-cd,drive=cd1,bus=scsi0.0",
		"-drive", "file=" + esc(s.Disk) + ",format=qcow2,if=none,id=disk0,discard=unmap",
		"-device", "virtio-blk-pci,drive=disk0",
		"-netdev", fmt.Sprintf("user,id=%s,hostfwd=tcp:127.0.0.1:%d-:22", NetdevID, s.SSHPort),
		"-device", "virtio-net-pci,netdev=" + NetdevID,
		"-device", "virtio-rng-pci",
	}
	return tail(args, s)
}

// tail adds what every machine's command line ends with: the shares, QMP,
// the pid file and detaching.
func tail(args []string, s Spec) []string {
	for _, sh := range s.Shares {
		args = append(args, "-virtfs", virtfs(sh.Tag, sh.Dir))
	}
	args = append(args,
		"-qmp", "unix:"+esc(s.QMP)+",server=on,wait=off",
		"-pidfile", s.PIDFile,
	)
	if s.Daemonize {
		args = append(args, "-daemonize")
	}
	return args
}

// virtfs is the -virtfs value of one share: a virtio-9p device that
// exports dir under tag.
//
// security_model=none: QEMU creates files as the user it runs as and
// ignores a failure to give them the guest's owner. A laptop user's QEMU
// is not root, so files a container writes become the user's own (as
// with VirtualBox shared folders), where "passthrough" would fail every
// chown and "mapped-xattr" would hide the real modes in xattrs on the
// user's files; as root (CI) it keeps the guest's owners, like
// passthrough. multidevs=remap keeps inode numbers unique when dir spans
// several host file systems (a home with mounts under it).
func virtfs(tag, dir string) string {
	return "local,path=" + esc(dir) + ",mount_tag=" + tag + ",security_model=none,multidevs=remap"
}

// esc escapes a value inside a QEMU option list, where a comma is written
// as two commas.
func esc(v string) string { return strings.ReplaceAll(v, ",", ",,") }
