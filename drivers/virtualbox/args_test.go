package virtualbox

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/golden"
)

// commandLines are every command line the driver builds, for the golden
// file (and the closing note: it is the list of what the driver runs).
func commandLines() []struct{ what, line string } {
	const m = "/home/u/.berth/machines/dev"
	h, _ := parseHostOnlyCIDR("192.168.59.1/24")
	var out []struct{ what, line string }
	add := func(what string, args []string) {
		out = append(out, struct{ what, line string }{what, "VBoxManage " + strings.Join(args, " ")})
	}
	add("pre-create: version", versionArgs())
	add("pre-create (host-only): adapters", listHostOnlyIfsArgs())
	add("create (host-only): new adapter", hostOnlyCreateArgs())
	add("create (host-only): adapter address", hostOnlyIPConfigArgs("vboxnet0", h.HostIP.String(), h.mask()))
	add("create (host-only): DHCP servers", listDHCPServersArgs())
	add("create (host-only): DHCP server", dhcpArgs("add", "HostInterfaceNetworking-vboxnet0", h.dhcp()))
	add("create: data disk", createMediumArgs(m+"/disk.vdi", 20000))
	add("create: VM", createVMArgs("dev", m+"/vbox", ArchAMD64))
	add("create: settings", modifyVMArgs("dev", vmSettings{CPUs: 1, MemoryMB: 1024, NICType: "82540EM", SSHPort: 50123}))
	add("create (VirtualBox 7.0.2+): settings", modifyVMArgs("dev", vmSettings{CPUs: 1, MemoryMB: 1024, NICType: "82540EM", SSHPort: 50123, LocalhostReachable: true}))
	add("create (host-only): settings", modifyVMArgs("dev", vmSettings{CPUs: 2, MemoryMB: 2048, NICType: "virtio", SSHPort: 50123, HostOnlyAdapter: "vboxnet0"}))
	add("create: controller", storageCtlArgs("dev", ArchAMD64))
	add("create: ISO", attachArgs("dev", ArchAMD64, portISO, "dvddrive", m+"/boot.iso"))
	add("create: disk", attachArgs("dev", ArchAMD64, portDisk, "hdd", m+"/disk.vdi"))
	add("create: seed", attachArgs("dev", ArchAMD64, portSeed, "dvddrive", m+"/seed.iso"))
	add("create (arm64 VM, VirtualBox 7.1+): VM", createVMArgs("dev", m+"/vbox", ArchARM64))
	add("create (arm64 VM): settings", modifyVMArgs("dev", vmSettings{Arch: ArchARM64, CPUs: 2, MemoryMB: 2048, NICType: "82540EM", SSHPort: 50123, LocalhostReachable: true}))
	add("create (arm64 VM, host-only): settings", modifyVMArgs("dev", vmSettings{Arch: ArchARM64, CPUs: 2, MemoryMB: 2048, NICType: "virtio", SSHPort: 50123, LocalhostReachable: true, HostOnlyAdapter: "vboxnet0"}))
	add("create (arm64 VM): controller", storageCtlArgs("dev", ArchARM64))
	add("create (arm64 VM): ISO", attachArgs("dev", ArchARM64, portISO, "dvddrive", m+"/boot.iso"))
	add("create (arm64 VM): disk", attachArgs("dev", ArchARM64, portDisk, "hdd", m+"/disk.vdi"))
	add("create (arm64 VM): seed", attachArgs("dev", ArchARM64, portSeed, "dvddrive", m+"/seed.iso"))
	add("create (--share): shared folder", sharedFolderAddArgs("dev", "berth0", "/home/u"))
	add("start", startVMArgs("dev", "headless"))
	add("start (SSH port taken): drop rule", natDeleteArgs("dev", sshRule))
	add("start (SSH port taken): new rule", natAddArgs("dev", natRule(sshRule, "tcp", "127.0.0.1", 50124, 22)))
	add("state, ls, status", showVMInfoArgs("dev"))
	add("stop", controlVMArgs("dev", "acpipowerbutton"))
	add("kill, stop timeout, rm", controlVMArgs("dev", "poweroff"))
	add("rm", unregisterArgs("dev"))
	add("rm (half-made create)", closeMediumArgs(m+"/disk.vdi"))
	add("forward (running)", controlVMArgs("dev", "natpf1", natRule("berth-tcp-127.0.0.1-8080", "tcp", "127.0.0.1", 8080, 80)))
	add("unforward (running)", controlVMArgs("dev", "natpf1", "delete", "berth-tcp-127.0.0.1-8080"))
	add("forward (stopped)", natAddArgs("dev", natRule("berth-tcp-127.0.0.1-8080", "tcp", "127.0.0.1", 8080, 80)))
	add("unforward (stopped)", natDeleteArgs("dev", "berth-tcp-127.0.0.1-8080"))
	return out
}

func TestCommandLines(t *testing.T) {
	var b strings.Builder
	for _, c := range commandLines() {
		b.WriteString("# " + c.what + "\n" + c.line + "\n")
	}
	golden.Assert(t, filepath.Join("testdata", "commands.golden"), []byte(b.String()))
}
