package vboxdouble

import (
	"fmt"

	"github.com/berthvm/berth/drivers/qemu"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func init() {
	handlers["startvm"] = startVM
	handlers["controlvm"] = controlVM
}

// frontends maps startvm --type values (case-insensitive) to the session
// name showvminfo prints.
var frontends = map[string]string{
	"gui": "GUI/Qt", "headless": "headless", "separate": "GUI/Qt/separate",
	"capture": "headless", "vrdp": "headless", "gui/qt": "GUI/Qt", "gui/separate": "GUI/Qt/separate", "gui/qt/separate": "GUI/Qt/separate",
}

func startVM(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["startvm"].Options, e.ver, true, 2)
	if err != nil {
		return err
	}
	if len(p.pos) == 0 {
		return &usageError{"at least one VM name or uuid required", 2}
	}
	typ, ok := p.get("--type")
	if !ok {
		typ = "gui"
	}
	for _, arg := range p.pos {
		v := e.st.findVM(arg)
		if v == nil {
			return vmNotFound(arg, "VBoxManageMisc.cpp")
		}
		front, ok := frontends[strings.ToLower(typ)]
		if !ok {
			return apiError("Invalid frontend name: '"+typ+"'", "E_INVALIDARG (0x80070057)", "MachineWrap", "IMachine",
				`"LaunchVMProcess(a->session, sessionType.raw(), ComSafeArrayAsInParam(aBstrEnv), progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
		}
		if v.live() {
			return apiError("The machine '"+v.Name+"' is already locked by a session (or being locked or unlocked)", "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)", "MachineWrap", "IMachine",
				`"LaunchVMProcess(a->session, sessionType.raw(), ComSafeArrayAsInParam(aBstrEnv), progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
		}
		fmt.Fprintf(e.stdout, "Waiting for VM \"%s\" to power on...\n", arg)
		if err := e.boot(v, front); err != nil {
			return err
		}
		e.changed = true
		fmt.Fprintf(e.stdout, "VM \"%s\" has been successfully started.\n", arg)
	}
	return nil
}

// vboxLog starts the VM's VBox.log as VirtualBox does at every start.
func vboxLog(v *vm, e *env, lines ...string) {
	os.MkdirAll(v.logDir(), 0o700)
	p := filepath.Join(v.logDir(), "VBox.log")
	os.Rename(p, p+".1")
	var b strings.Builder
	fmt.Fprintf(&b, "00:00:00.000000 VirtualBox VM %s linux.amd64 (VBoxManage double: QEMU runs this VM)\n", e.verRaw)
	fmt.Fprintf(&b, "00:00:00.000100 Log opened %s\n", time.Now().UTC().Format(time.RFC3339Nano))
	for _, l := range lines {
		fmt.Fprintf(&b, "00:00:00.000200 %s\n", l)
	}
	os.WriteFile(p, []byte(b.String()), 0o600)
}

// boot starts QEMU for v.
func (e *env) boot(v *vm, front string) error {
	if e.getenv("VBOXDOUBLE_NO_VTX") == "1" {
		vboxLog(v, e, "HM: HMR3Init: VT-x is not available", "Power up failed (vrc=VERR_VMX_NO_VMX, rc=NS_ERROR_FAILURE (0X80004005))")
		return apiError("VT-x is not available (VERR_VMX_NO_VMX)", "NS_ERROR_FAILURE (0x80004005)", "ConsoleWrap", "IConsole",
			`"PowerUp(progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
	}
	qargs, err := e.qemuArgs(v, front)
	if err != nil {
		return err
	}
	qemu := e.getenv("VBOXDOUBLE_QEMU")
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	if v.arm() {
		if qemu = e.getenv("VBOXDOUBLE_QEMU_ARM"); qemu == "" {
			qemu = "qemu-system-aarch64"
		}
	}
	vboxLog(v, e, append(append([]string{"Command line: " + qemu + " " + strings.Join(qargs, " ")}, v.missingShares()...), v.busyForwards()...)...)
	errf, err := os.CreateTemp(e.home, "qemu-stderr-*")
	if err != nil {
		return err
	}
	defer os.Remove(errf.Name())
	defer errf.Close()
	cmd := exec.Command(qemu, qargs...)
	cmd.Stdout, cmd.Stderr = errf, errf // files, so that the daemon holds no pipe of ours
	if err := cmd.Run(); err != nil {
		msg, _ := os.ReadFile(errf.Name())
		f, _ := os.OpenFile(filepath.Join(v.logDir(), "VBox.log"), os.O_APPEND|os.O_WRONLY, 0o600)
		if f != nil {
			fmt.Fprintf(f, "00:00:00.100000 Power up failed: %s\n", strings.TrimSpace(string(msg)))
			f.Close()
		}
		return apiError(fmt.Sprintf("The VM session was aborted (QEMU: %s)", strings.TrimSpace(string(msg))), "NS_ERROR_FAILURE (0x80004005)", "SessionMachine", "ISession",
			`"PowerUp(progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
	}
	b, err := os.ReadFile(e.pidFile(v))
	if err != nil {
		return fmt.Errorf("read the QEMU pid file: %w", err)
	}
	v.PID, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	v.QMP = e.qmpSocket(v)
	v.Frontend = front
	v.PowerButton = false
	v.setState("running")
	return nil
}

func (e *env) pidFile(v *vm) string { return filepath.Join(e.home, "run", v.UUID+".pid") }

// qmpSocket is short enough for a unix socket address.
func (e *env) qmpSocket(v *vm) string {
	p := filepath.Join(e.home, "run", v.UUID[:8]+".qmp")
	if len(p) > 100 {
		p = filepath.Join(os.TempDir(), "vboxdouble-"+v.UUID+".qmp")
	}
	return p
}

// nicModels maps VirtualBox NIC types to QEMU devices.
var nicModels = map[string]string{
	"82540EM": "e1000", "82543GC": "e1000", "82545EM": "e1000-82545em", "virtio": "virtio-net-pci",
	"Am79C970A": "pcnet", "Am79C973": "pcnet", "Am79C960": "pcnet", "NE1000": "ne2k_isa", "NE2000": "ne2k_pci",
}

// qemuArgs turns v's settings into a QEMU command line: the SATA
// attachments on an AHCI controller, NAT NICs as user networking with the
// forwards as hostfwd, shared folders as virtio-9p devices, CPUs and
// memory.
func (e *env) qemuArgs(v *vm, front string) ([]string, error) {
	mem := v.MemoryMB
	if capMB, err := strconv.Atoi(e.getenv("VBOXDOUBLE_MAX_MEMORY")); err == nil && capMB > 0 && mem > capMB {
		mem = capMB
	}
	os.MkdirAll(filepath.Join(e.home, "run"), 0o700)
	sock := e.qmpSocket(v)
	os.Remove(sock)
	a := []string{"-name", v.Name + ",debug-threads=off", "-uuid", v.UUID}
	if v.arm() {
		// VirtualBox's arm platform as QEMU's virt machine, booted by
		// edk2 with the VM's own variable store.
		fw, err := e.armFirmware(v)
		if err != nil {
			return nil, err
		}
		a = append(a, "-machine", "virt", "-accel", "tcg", "-cpu", "max",
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+qemuPath(fw),
			"-drive", "if=pflash,format=raw,unit=1,file="+qemuPath(v.nvramFile()))
	} else {
		a = append(a, "-machine", "pc", "-accel", "tcg")
	}
	a = append(a, "-m", strconv.Itoa(mem), "-smp", strconv.Itoa(max(v.CPUs, 1)),
		"-nodefaults", "-no-user-config")
	switch {
	case !v.arm():
		a = append(a, "-vga", "std")
	case front != "headless":
		a = append(a, "-device", "ramfb") // the arm platform's QEMU ramfb screen
	}
	a = append(a,
		"-daemonize", "-pidfile", e.pidFile(v),
		"-qmp", "unix:"+sock+",server=on,wait=off",
		"-serial", "file:"+filepath.Join(v.logDir(), "console.log"),
	)
	if front == "headless" {
		a = append(a, "-display", "none")
	}
	bootIndex := func(kind string) int {
		for i, b := range v.Boot {
			if b == kind {
				return i
			}
		}
		return -1
	}
	used := map[string]bool{}
	for ci, c := range v.Controllers {
		var bus, cd, hd string // the QEMU bus of c and its CD and disk devices
		switch c.Bus {
		case "sata":
			bus = fmt.Sprintf("ahci%d", ci)
			a = append(a, "-device", "ahci,id="+bus)
			cd, hd = "ide-cd", "ide-hd"
		case "virtio-scsi", "virtio":
			bus = fmt.Sprintf("scsi%d", ci)
			a = append(a, "-device", "virtio-scsi-pci,id="+bus)
			cd, hd = "scsi-cd", "scsi-hd"
		default:
			return nil, notImplemented("storage controllers other than SATA and virtio-scsi (" + c.Name + ")")
		}
		for _, at := range v.Attachments {
			if at.Controller != c.Name {
				continue
			}
			id := fmt.Sprintf("%s-%d", bus, at.Port)
			drive := "if=none,id=" + id
			var dev string
			if c.Bus == "sata" {
				if at.Port > 5 {
					return nil, notImplemented("SATA ports above 5 (QEMU's AHCI has 6)")
				}
				dev = fmt.Sprintf("bus=%s.%d,drive=%s", bus, at.Port, id)
			} else {
				dev = fmt.Sprintf("bus=%s.0,channel=0,scsi-id=%d,lun=0,drive=%s", bus, at.Port, id)
			}
			kind := "disk"
			switch {
			case at.Type == "dvddrive" && at.Medium == "emptydrive":
				a = append(a, "-drive", drive+",media=cdrom", "-device", cd+","+dev)
				continue
			case at.Type == "dvddrive":
				kind = "dvd"
				if _, err := os.Stat(at.Medium); err != nil {
					return nil, mediumMissing(at.Medium)
				}
				a = append(a, "-drive", drive+",media=cdrom,readonly=on,format=raw,file="+qemuPath(at.Medium))
				dev = cd + "," + dev
			default:
				if _, err := os.Stat(at.Medium); err != nil {
					return nil, mediumMissing(at.Medium)
				}
				a = append(a, "-drive", drive+",cache=writeback,format="+strings.ToLower(formatOf(at.Medium))+",file="+qemuPath(at.Medium))
				dev = hd + "," + dev
			}
			if i := bootIndex(kind); i >= 0 && !used[kind] {
				dev += ",bootindex=" + strconv.Itoa(i)
				used[kind] = true
			}
			a = append(a, "-device", dev)
		}
	}
	for i := 1; i <= maxNICs; i++ {
		n, ok := v.NICs[i]
		if !ok || n.Attachment == "none" || n.Attachment == "null" {
			continue
		}
		netdev := fmt.Sprintf("user,id=net%d", i)
		if n.Attachment == "nat" {
			_, busy := busyRules(i, n)
			for _, r := range n.Rules {
				if busy[r] {
					continue
				}
				netdev += fmt.Sprintf(",hostfwd=%s:%s:%d-%s:%d", r.Proto, r.HostIP, r.HostPort, r.GuestIP, r.GuestPort)
			}
		} else {
			// Host-only and other networks: an isolated network, reachable
			// from neither the host nor the internet.
			netdev += ",restrict=on"
		}
		model := nicModels[n.Type]
		if model == "" {
			model = "e1000"
		}
		mac := strings.ToLower(n.MAC)
		mac = mac[0:2] + ":" + mac[2:4] + ":" + mac[4:6] + ":" + mac[6:8] + ":" + mac[8:10] + ":" + mac[10:12]
		a = append(a, "-netdev", netdev, "-device", fmt.Sprintf("%s,netdev=net%d,mac=%s", model, i, mac))
	}
	return append(a, v.virtfsArgs()...), nil
}

// armFirmware finds the edk2 firmware that boots an arm VM
// (VBOXDOUBLE_FIRMWARE, else where the QEMU driver looks) and gives the VM
// its variable store at the first start: a copy of the firmware's
// template, or an empty store of the firmware's size.
func (e *env) armFirmware(v *vm) (string, error) {
	code, vars, err := qemu.FindARM64Firmware(e.getenv("VBOXDOUBLE_FIRMWARE"))
	if err != nil {
		return "", apiError("the VBoxManage double cannot boot arm VMs: "+err.Error(), "NS_ERROR_FAILURE (0x80004005)", "ConsoleWrap", "IConsole",
			`"PowerUp(progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
	}
	if _, err := os.Stat(v.nvramFile()); err == nil {
		return code, nil
	}
	if vars != "" {
		b, err := os.ReadFile(vars)
		if err != nil {
			return "", err
		}
		return code, os.WriteFile(v.nvramFile(), b, 0o600)
	}
	fi, err := os.Stat(code)
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(v.nvramFile(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", err
	}
	err = f.Truncate(fi.Size())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return code, err
}

// qemuPath escapes commas, QEMU's option separator.
func qemuPath(p string) string { return strings.ReplaceAll(p, ",", ",,") }

func mediumMissing(p string) error {
	return apiError(fmt.Sprintf("Could not open the medium '%s'.\nVD: error VERR_FILE_NOT_FOUND opening image file '%s' (VERR_FILE_NOT_FOUND)", p, p),
		"VBOX_E_FILE_ERROR (0x80bb0004)", "MediumWrap", "IMedium", `"PowerUp(progress.asOutParam())" at line 881 of file VBoxManageMisc.cpp`)
}

func controlVM(e *env, args []string) error {
	v := e.st.findVM(args[0])
	if v == nil {
		return vmNotFound(args[0], "VBoxManageControlVM.cpp")
	}
	if len(args) < 2 {
		return &usageError{"Not enough parameters", 2}
	}
	if !v.live() {
		return &runtimeError{lines: []string{"Machine '" + args[0] + "' is not currently running."}, exit: 1}
	}
	verb := args[1]
	switch {
	case verb == "poweroff":
		v.kill()
		v.setState("poweroff")
		e.changed = true
		fmt.Fprint(e.stderr, progress)
		return nil
	case verb == "acpipowerbutton":
		if err := qmpErr(v, "system_powerdown"); err != nil {
			return err
		}
		v.PowerButton = true
		e.changed = true
		return nil
	case verb == "pause":
		if err := qmpErr(v, "stop"); err != nil {
			return err
		}
		v.setState("paused")
		e.changed = true
		return nil
	case verb == "resume":
		if err := qmpErr(v, "cont"); err != nil {
			return err
		}
		v.setState("running")
		e.changed = true
		return nil
	case verb == "reset":
		return qmpErr(v, "system_reset")
	case strings.HasPrefix(verb, "natpf") && len(args) > 2:
		i, err := strconv.Atoi(verb[len("natpf"):])
		if err != nil || i < 1 || i > maxNICs {
			return &runtimeError{lines: []string{"Invalid NIC number '" + verb[len("natpf"):] + "'."}, exit: 1}
		}
		return e.liveNATPF(v, i, args[2:])
	}
	var verbs []struct {
		Verb string `json:"verb"`
	}
	raw, _ := jsonField(specJSON, "commands", "controlvm", "subcommands")
	jsonUnmarshal(raw, &verbs)
	for _, s := range verbs {
		if s.Verb == verb || strings.HasSuffix(s.Verb, "<N>") && strings.HasPrefix(verb, strings.TrimSuffix(s.Verb, "<N>")) {
			return notImplemented("controlvm " + verb)
		}
	}
	return &usageError{"Invalid parameter '" + verb + "'.", 1}
}

func qmpErr(v *vm, command string) error {
	if _, err := qmp(v.QMP, command, nil); err != nil {
		return apiError("the VM process does not answer: "+err.Error(), "NS_ERROR_FAILURE (0x80004005)", "ConsoleWrap", "IConsole", `"`+command+`" in the VBoxManage double`)
	}
	return nil
}

// liveNATPF adds or deletes a NAT rule on a running VM, in QEMU too.
func (e *env) liveNATPF(v *vm, i int, rest []string) error {
	n := v.nic(i)
	o := opt{Name: "--nat-pf", Index: i, Value: rest[0]}
	if rest[0] == "delete" {
		if len(rest) > 1 {
			o.Extra = rest[1]
		}
		var r *rule
		for _, x := range n.Rules {
			if x.Name == o.Extra {
				r = x
			}
		}
		if r == nil {
			return &runtimeError{lines: []string{
				"Code NS_ERROR_INVALID_ARG (0x80070057) - Invalid argument value (extended info not available)",
				`Context: "RemoveRedirect(Bstr(a->argv[3]).raw())" at line 1254 of file VBoxManageControlVM.cpp`,
			}, exit: 1}
		}
		// A rule whose port was taken at power-up has no host forward in
		// QEMU (see busyRules); VirtualBox deletes such a rule all the same.
		if err := hmp(v.QMP, fmt.Sprintf("hostfwd_remove net%d %s:%s:%d", i, r.Proto, r.HostIP, r.HostPort)); err != nil && !strings.HasSuffix(err.Error(), " not found") {
			return apiError(err.Error(), "NS_ERROR_FAILURE (0x80004005)", "NATEngineWrap", "INATEngine", `"RemoveRedirect(Bstr(a->argv[3]).raw())" at line 1254 of file VBoxManageControlVM.cpp`)
		}
		natPF(n, o, "natpf")
		e.changed = true
		return nil
	}
	if strings.Count(rest[0], ",") != 5 {
		return &usageError{"Missing or invalid argument to 'natpf" + strconv.Itoa(i) + "'.", 2}
	}
	before := len(n.Rules)
	if err := natPF(n, o, "natpf"); err != nil {
		return err
	}
	if len(n.Rules) == before {
		return nil
	}
	r := n.Rules[len(n.Rules)-1]
	if err := hmp(v.QMP, fmt.Sprintf("hostfwd_add net%d %s:%s:%d-%s:%d", i, r.Proto, r.HostIP, r.HostPort, r.GuestIP, r.GuestPort)); err != nil {
		return apiError(err.Error(), "NS_ERROR_FAILURE (0x80004005)", "NATEngineWrap", "INATEngine", `"AddRedirect(...)" at line 1230 of file VBoxManageControlVM.cpp`)
	}
	e.changed = true
	return nil
}

// kill ends the VM's QEMU: SIGTERM, then SIGKILL after 5 s.
func (v *vm) kill() {
	if !alive(v.PID) || !v.isOurs() {
		v.PID = 0
		return
	}
	signal(v.PID, syscall.SIGTERM)
	for i := 0; i < 50 && alive(v.PID); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if alive(v.PID) {
		signal(v.PID, syscall.SIGKILL)
		for i := 0; i < 50 && alive(v.PID); i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}
	v.PID = 0
}

// isOurs checks that PID still is this VM's QEMU (pids are reused).
func (v *vm) isOurs() bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", v.PID))
	return err == nil && strings.Contains(string(b), v.UUID)
}
