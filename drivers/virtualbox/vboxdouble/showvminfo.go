package vboxdouble

import (
	"fmt"
	"path/filepath"
	"strings"
)

func init() { handlers["showvminfo"] = showVMInfo }

func showVMInfo(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["showvminfo"].Options, e.ver, false, 2)
	if err != nil {
		return err
	}
	if len(p.pos) == 0 {
		return &usageError{"VM name or UUID required", 2}
	}
	if len(p.pos) > 1 {
		return &usageError{"Invalid parameter '" + p.pos[1] + "'", 2}
	}
	if p.has("--log") && (p.has("--details") || p.has("--machinereadable")) {
		return &usageError{"Option --log is exclusive", 2}
	}
	v := e.st.findVM(p.pos[0])
	if v == nil {
		return vmNotFound(p.pos[0], "VBoxManageInfo.cpp")
	}
	if !p.has("--machinereadable") {
		return notImplemented("the human-readable showvminfo output (use --machinereadable)")
	}
	w := &mrWriter{e: e}
	w.str("name", v.Name)
	if !e.ver.less(version{7, 0, 0}) {
		w.str("encryption", "disabled")
	}
	w.str("groups", "/")
	if !e.ver.less(version{7, 1, 0}) {
		w.str("platformArchitecture", v.platform())
	}
	desc := osTypes[v.OSType]
	if desc == "" {
		desc = v.OSType
	}
	w.str("ostype", desc)
	w.str("UUID", v.UUID)
	w.str("CfgFile", v.cfgFile())
	w.str("SnapFldr", filepath.Join(v.Folder, "Snapshots"))
	w.str("LogFldr", v.logDir())
	w.str("hardwareuuid", v.UUID)
	w.num("memory", v.MemoryMB)
	w.str("pagefusion", "off")
	w.num("vram", 8)
	w.num("cpuexecutioncap", 100)
	if !v.arm() {
		w.str("hpet", v.setting("--hpet", "off"))
	}
	w.str("cpu-profile", "host")
	w.str("chipset", v.setting("--chipset", "piix3"))
	w.str("firmware", v.Firmware)
	w.num("cpus", v.CPUs)
	if !v.arm() { // the x86 platform's settings
		w.str("pae", v.setting("--pae", "on"))
		w.str("longmode", "on")
		w.str("triplefaultreset", "off")
		w.str("apic", "on")
		w.str("x2apic", "on")
		w.str("nested-hw-virt", "off")
		w.str("hwvirtex", v.setting("--hwvirtex", "on"))
		w.str("nestedpaging", v.setting("--nestedpaging", "on"))
		w.str("largepages", v.setting("--largepages", "off"))
		w.str("vtxvpid", v.setting("--vtxvpid", "on"))
		w.str("vtxux", "on")
		w.str("virtvmsavevmload", "on")
	}
	w.num("cpuid-portability-level", 0)
	w.str("bootmenu", v.setting("--biosbootmenu", "messageandmenu"))
	for i, b := range v.Boot {
		w.str(fmt.Sprintf("boot%d", i+1), b)
	}
	w.str("acpi", v.setting("--acpi", "on"))
	w.str("ioapic", v.setting("--ioapic", "on"))
	w.str("biosapic", "apic")
	w.num("biossystemtimeoffset", 0)
	w.str("rtcuseutc", v.setting("--rtcuseutc", "off"))
	w.str("paravirtprovider", "default")
	w.str("effparavirtprovider", "kvm")
	w.str("VMState", v.State)
	w.str("VMStateChangeTime", v.StateChange.Format("2006-01-02T15:04:05.000")+"000000")
	w.str("graphicscontroller", strings.ToLower(v.setting("--graphicscontroller", map[bool]string{false: "vboxvga", true: "qemuramfb"}[v.arm()])))
	w.num("monitorcount", 1)
	w.str("accelerate3d", v.setting("--accelerate3d", "off"))
	w.str("accelerate2dvideo", "off")
	w.str("teleporterenabled", "off")
	w.num("teleporterport", 0)
	w.str("teleporteraddress", "")
	w.str("teleporterpassword", "")
	w.str("tracing-enabled", "off")
	w.str("tracing-allow-vm-access", "off")
	w.str("tracing-config", "")
	w.str("autostart-enabled", "off")
	w.num("autostart-delay", 0)
	w.str("defaultfrontend", "")
	w.str("vmprocpriority", "default")
	for i, c := range v.Controllers {
		w.str(fmt.Sprintf("storagecontrollername%d", i), c.Name)
		w.str(fmt.Sprintf("storagecontrollertype%d", i), c.Type)
		w.str(fmt.Sprintf("storagecontrollerinstance%d", i), "0")
		w.str(fmt.Sprintf("storagecontrollermaxportcount%d", i), "30")
		w.str(fmt.Sprintf("storagecontrollerportcount%d", i), fmt.Sprint(c.Ports))
		w.str(fmt.Sprintf("storagecontrollerbootable%d", i), onOff(c.Bootable))
	}
	for _, c := range v.Controllers {
		for port := 0; port < c.Ports; port++ {
			a := v.attachment(c.Name, port, 0)
			slot := fmt.Sprintf("%d-%d", port, 0)
			if a == nil {
				w.medium(fmt.Sprintf("%s-%s", c.Name, slot), "none")
				continue
			}
			w.medium(fmt.Sprintf("%s-%s", c.Name, slot), a.Medium)
			if a.UUID != "" {
				w.medium(fmt.Sprintf("%s-ImageUUID-%s", c.Name, slot), a.UUID)
			}
			if a.Type == "dvddrive" {
				suffix := "-" + slot
				if e.ver.less(version{7, 0, 0}) {
					suffix = ""
				}
				w.medium(c.Name+"-tempeject"+suffix, "off")
				w.medium(c.Name+"-IsEjected"+suffix, "off")
			}
			if strings.EqualFold(c.Name, "SATA") {
				w.medium(fmt.Sprintf("%s-hot-pluggable-%s", c.Name, slot), "off")
			}
			w.medium(fmt.Sprintf("%s-nonrotational-%s", c.Name, slot), "off")
			w.medium(fmt.Sprintf("%s-discard-%s", c.Name, slot), "off")
		}
	}
	for i := 1; i <= maxNICs; i++ {
		n, ok := v.NICs[i]
		if !ok || n.Attachment == "none" {
			w.str(fmt.Sprintf("nic%d", i), "none")
			continue
		}
		switch n.Attachment {
		case "nat":
			w.str(fmt.Sprintf("natnet%d", i), "nat")
		case "hostonly":
			w.str(fmt.Sprintf("hostonlyadapter%d", i), n.HostOnly)
		}
		w.str(fmt.Sprintf("macaddress%d", i), n.MAC)
		w.str(fmt.Sprintf("cableconnected%d", i), onOff(n.Cable))
		w.str(fmt.Sprintf("nic%d", i), n.Attachment)
		w.str(fmt.Sprintf("nictype%d", i), n.Type)
		w.str(fmt.Sprintf("nicspeed%d", i), "0")
		if n.Attachment == "nat" {
			for _, kv := range [][2]string{{"mtu", "0"}, {"sockSnd", "64"}, {"sockRcv", "64"}, {"tcpWndSnd", "64"}, {"tcpWndRcv", "64"}} {
				w.str(kv[0], kv[1])
			}
			for j, r := range n.Rules {
				w.raw(fmt.Sprintf("Forwarding(%d)=\"%s\"", j, r))
			}
		}
	}
	w.str("hidpointing", "ps2mouse")
	w.str("hidkeyboard", "ps2kbd")
	for i := 1; i <= 4; i++ {
		w.str(fmt.Sprintf("uart%d", i), "off")
	}
	w.str("lpt1", "off")
	w.str("lpt2", "off")
	w.str("audio", "none")
	w.str("audio_out", "off")
	w.str("audio_in", "off")
	w.str("clipboard", "disabled")
	w.str("draganddrop", "disabled")
	if v.live() {
		w.str("SessionName", v.Frontend)
		w.raw(`VideoMode="720,400,0"@0,0 1`)
	}
	w.str("vrde", "off")
	w.str("usb", "off")
	w.str("ehci", "off")
	w.str("xhci", "off")
	for i, f := range v.SharedFolders {
		w.str(fmt.Sprintf("SharedFolderNameMachineMapping%d", i+1), f.Name)
		w.str(fmt.Sprintf("SharedFolderPathMachineMapping%d", i+1), f.HostPath)
	}
	w.str("recording_enabled", "off")
	w.num("recording_screens", 1)
	w.raw(" rec_screen0")
	w.str("rec_screen_enabled", "on")
	w.num("rec_screen_id", 0)
	w.num("GuestMemoryBalloon", 0)
	if v.live() {
		w.num("GuestAdditionsRunLevel", 0)
	}
	return nil
}

// setting is a stored modifyvm value (lower-cased on/off) or def.
func (v *vm) setting(name, def string) string {
	if s, ok := v.Settings[name]; ok {
		return strings.ToLower(s)
	}
	return def
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// mrWriter prints machine-readable lines with the quoting of the claimed
// version: 7.0+ escapes \ and " in values; 6.1 printed medium paths raw.
type mrWriter struct{ e *env }

func (w *mrWriter) esc(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

func (w *mrWriter) str(k, v string) { fmt.Fprintf(w.e.stdout, "%s=\"%s\"\n", k, w.esc(v)) }
func (w *mrWriter) num(k string, n int) {
	fmt.Fprintf(w.e.stdout, "%s=%d\n", k, n)
}
func (w *mrWriter) raw(line string) { fmt.Fprintln(w.e.stdout, line) }
func (w *mrWriter) medium(k, v string) {
	if w.e.ver.less(version{7, 0, 0}) {
		fmt.Fprintf(w.e.stdout, "\"%s\"=\"%s\"\n", k, v)
		return
	}
	fmt.Fprintf(w.e.stdout, "\"%s\"=\"%s\"\n", w.esc(k), w.esc(v))
}
