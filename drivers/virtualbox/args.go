package virtualbox

import (
	"strconv"
)

// The command lines the driver runs, built by plain functions so that tests
// can compare them with golden files. They use VBoxManage's squashed option
// spellings (--natpf1, --ostype), which VirtualBox 5.x, 6.1 and 7.x accept.

// The VM's only storage controller: SATA (AHCI) on x86 VMs; virtio-scsi on
// arm VMs, where VirtualBox's arm guides and Packer templates attach disks
// and CDs (and QEMU's virt machine, which the VBoxManage double runs arm
// VMs on, has no AHCI of its own).
const (
	sataController   = "SATA"
	virtioController = "VirtioSCSI"
)

// controllerOf is the name of the storage controller of a VM of arch.
func controllerOf(arch string) string {
	if arch == ArchARM64 {
		return virtioController
	}
	return sataController
}

// The controller ports of the VM's media.
const (
	portISO  = 0
	portDisk = 1
	portSeed = 2
)

// sshRule is the name of the NAT rule that forwards the guest's SSH port.
const sshRule = "ssh"

func versionArgs() []string { return []string{"--version"} }

func createMediumArgs(path string, sizeMB int) []string {
	return []string{"createmedium", "disk", "--filename", path, "--size", strconv.Itoa(sizeMB), "--format", "VDI"}
}

// createVMArgs registers a new VM. An arm64 VM is on VirtualBox's arm
// platform, chosen at creation for good (VirtualBox 7.1+).
func createVMArgs(name, baseFolder, arch string) []string {
	args := []string{"createvm", "--basefolder", baseFolder, "--name", name}
	if arch == ArchARM64 {
		args = append(args, "--platform-architecture", "arm")
	}
	return append(args, "--register")
}

// vmSettings is what modifyVMArgs sets on a new VM.
type vmSettings struct {
	// Arch is the VM's architecture: amd64 ("" too) or arm64.
	Arch     string
	CPUs     int
	MemoryMB int
	NICType  string
	SSHPort  int
	// HostOnlyAdapter, when set, becomes NIC 2.
	HostOnlyAdapter string
	// LocalhostReachable lets the guest reach the host's 127.0.0.1 at
	// the NAT gateway (10.0.2.2), which VirtualBox 7.0 turned off by
	// default; set it where the version has --nat-localhostreachable.
	LocalhostReachable bool
}

// modifyVMArgs configures a new VM in one call: firmware, CPU, memory, boot
// order, NIC 1 as NAT with the SSH forward and, when asked, NIC 2 on a
// host-only adapter. One call is one transaction in VirtualBox.
func modifyVMArgs(name string, s vmSettings) []string {
	args := []string{"modifyvm", name}
	if s.Arch == ArchARM64 {
		args = append(args, armPlatformArgs(s)...)
	} else {
		args = append(args, x86PlatformArgs(s)...)
	}
	return append(args, bootAndNICArgs(s)...)
}

// x86PlatformArgs are the firmware, chipset and CPU settings of an x86 VM:
// BIOS, the PC's I/O APIC, RTC and HPET, and the hardware virtualization
// switches.
func x86PlatformArgs(s vmSettings) []string {
	return []string{
		"--firmware", "bios",
		"--bioslogofadein", "off",
		"--bioslogofadeout", "off",
		"--bioslogodisplaytime", "0",
		"--biosbootmenu", "disabled",
		"--ostype", "Linux26_64",
		"--cpus", strconv.Itoa(s.CPUs),
		"--memory", strconv.Itoa(s.MemoryMB),
		"--acpi", "on",
		"--ioapic", "on",
		"--rtcuseutc", "on",
		"--natdnshostresolver1", "off",
		"--natdnsproxy1", "on",
		"--cpuhotplug", "off",
		"--pae", "on",
		"--hpet", "on",
		"--hwvirtex", "on",
		"--nestedpaging", "on",
		"--largepages", "on",
		"--vtxvpid", "on",
		"--accelerate3d", "off",
	}
}

// armPlatformArgs are the settings of an arm VM (VirtualBox 7.1+): UEFI
// (the only firmware of the arm platform), the armv8virtual chipset, an
// arm64 guest type, ACPI (the power button), the QEMU ramfb screen and USB
// input (the arm platform has no VGA or PS/2). None of the x86-only options
// (--ioapic, --pae, --hpet, --hwvirtex, --nestedpaging, --largepages,
// --vtxvpid...): VBoxManage applies those to the VM's x86 platform
// settings, which an arm VM does not have.
func armPlatformArgs(s vmSettings) []string {
	return []string{
		"--firmware", "efi",
		"--chipset", "armv8virtual",
		"--ostype", "Linux_arm64",
		"--cpus", strconv.Itoa(s.CPUs),
		"--memory", strconv.Itoa(s.MemoryMB),
		"--acpi", "on",
		"--natdnshostresolver1", "off",
		"--natdnsproxy1", "on",
		"--graphicscontroller", "qemuramfb",
		"--usbxhci", "on",
		"--mouse", "usb",
		"--keyboard", "usb",
	}
}

// bootAndNICArgs are the boot order and the NICs, the same on both
// platforms.
func bootAndNICArgs(s vmSettings) []string {
	args := []string{
		"--boot1", "dvd",
		"--boot2", "disk",
		"--boot3", "none",
		"--boot4", "none",
		"--nic1", "nat",
		"--nictype1", s.NICType,
		"--cableconnected1", "on",
		"--natpf1", natRule(sshRule, "tcp", "127.0.0.1", s.SSHPort, 22),
	}
	if s.LocalhostReachable {
		args = append(args, "--nat-localhostreachable1", "on")
	}
	if s.HostOnlyAdapter != "" {
		args = append(args,
			"--nic2", "hostonly",
			"--nictype2", s.NICType,
			"--nicpromisc2", "deny",
			"--hostonlyadapter2", s.HostOnlyAdapter,
			"--cableconnected2", "on")
	}
	return args
}

// natRule is a NAT port-forwarding rule as --natpf1 and controlvm natpf1
// take it: name,proto,hostip,hostport,guestip,guestport.
func natRule(name, proto, hostIP string, hostPort, guestPort int) string {
	return name + "," + proto + "," + hostIP + "," + strconv.Itoa(hostPort) + ",," + strconv.Itoa(guestPort)
}

// storageCtlArgs adds the VM's storage controller (see controllerOf).
func storageCtlArgs(name, arch string) []string {
	bus := "sata"
	if arch == ArchARM64 {
		bus = "virtio-scsi"
	}
	return []string{"storagectl", name, "--name", controllerOf(arch), "--add", bus, "--hostiocache", "on"}
}

func attachArgs(name, arch string, port int, kind, medium string) []string {
	return []string{"storageattach", name, "--storagectl", controllerOf(arch),
		"--port", strconv.Itoa(port), "--device", "0", "--type", kind, "--medium", medium}
}

func showVMInfoArgs(name string) []string {
	return []string{"showvminfo", name, "--machinereadable"}
}

func startVMArgs(name, uiType string) []string {
	return []string{"startvm", name, "--type", uiType}
}

func controlVMArgs(name string, verb ...string) []string {
	return append([]string{"controlvm", name}, verb...)
}

// natDeleteArgs removes NAT rule on a stopped VM. It must be a call of its
// own: it fails when the rule is absent, and a failing modifyvm saves
// nothing.
func natDeleteArgs(name, rule string) []string {
	return []string{"modifyvm", name, "--natpf1", "delete", rule}
}

func natAddArgs(name, rule string) []string {
	return []string{"modifyvm", name, "--natpf1", rule}
}

// sharedFolderAddArgs adds a permanent shared folder (the VM must be
// powered off). No --automount: berth-os mounts the folder itself, at the
// guest path the seed names, and VirtualBox's guest service, which
// --automount addresses, does not run there.
func sharedFolderAddArgs(vmName, name, hostPath string) []string {
	return []string{"sharedfolder", "add", vmName, "--name", name, "--hostpath", hostPath}
}

func unregisterArgs(name string) []string {
	return []string{"unregistervm", name, "--delete"}
}

func closeMediumArgs(path string) []string {
	return []string{"closemedium", "disk", path, "--delete"}
}

func listHostOnlyIfsArgs() []string { return []string{"list", "hostonlyifs"} }

func listDHCPServersArgs() []string { return []string{"list", "dhcpservers"} }

func hostOnlyCreateArgs() []string { return []string{"hostonlyif", "create"} }

func hostOnlyIPConfigArgs(ifname, ip, mask string) []string {
	return []string{"hostonlyif", "ipconfig", ifname, "--ip", ip, "--netmask", mask}
}

// dhcpArgs adds ("add") or changes ("modify") the DHCP server of a
// host-only network.
func dhcpArgs(verb, netName string, d dhcpConfig) []string {
	return []string{"dhcpserver", verb, "--netname", netName,
		"--ip", d.ServerIP, "--netmask", d.Mask,
		"--lowerip", d.Lower, "--upperip", d.Upper, "--enable"}
}

// closeDVDArgs forgets a DVD image that no VM has attached, keeping its
// file.
func closeDVDArgs(path string) []string {
	return []string{"closemedium", "dvd", path}
}
