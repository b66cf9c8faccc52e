package vboxdouble

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

func init() {
	handlers["createvm"] = createVM
	handlers["modifyvm"] = modifyVM
	handlers["storagectl"] = storageCtl
	handlers["storageattach"] = storageAttach
	handlers["unregistervm"] = unregisterVM
	handlers["list"] = list
}

// osTypes are the guest OS type ids the double knows, with the
// descriptions showvminfo prints.
var osTypes = map[string]string{
	"Linux26_64": "Linux 2.6 / 3.x / 4.x / 5.x (64-bit)",
	"Linux26":    "Linux 2.6 / 3.x / 4.x / 5.x (32-bit)",
	"Linux_64":   "Other Linux (64-bit)",
	"Linux":      "Other Linux (32-bit)",
	"Debian_64":  "Debian (64-bit)",
	"Ubuntu_64":  "Ubuntu (64-bit)",
	"Other":      "Other/Unknown",
	"Other_64":   "Other/Unknown (64-bit)",
	// The arm platform's types (VirtualBox 7.1+).
	"Linux_arm64":    "Other Linux (ARM 64-bit)",
	"Debian12_arm64": "Debian 12 Bookworm (ARM 64-bit)",
	"Ubuntu_arm64":   "Ubuntu (ARM 64-bit)",
	"Other_arm64":    "Other/Unknown (ARM 64-bit)",
}

// osTypeARM reports whether a guest OS type is one of the arm platform.
func osTypeARM(id string) bool { return strings.HasSuffix(id, "_arm64") }

func createVM(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["createvm"].Options, e.ver, false, 2)
	if err != nil {
		return err
	}
	if len(p.pos) > 0 {
		return &usageError{"Invalid parameter '" + p.pos[0] + "'", 2}
	}
	name, ok := p.get("--name")
	if !ok {
		return &usageError{"Parameter --name is required", 2}
	}
	base, ok := p.get("--basefolder")
	if !ok {
		base = filepath.Join(e.getenv("HOME"), "VirtualBox VMs")
	}
	ostype, _ := p.get("--ostype")
	if ostype == "" {
		ostype = "Other"
	}
	if _, known := osTypes[ostype]; !known && !e.ver.less(version{7, 1, 0}) {
		return &runtimeError{lines: []string{"Unknown or invalid guest OS type given."}, exit: 1}
	}
	// The platform: as asked, else the guest OS type's, else the host's
	// (the double claims an x86 host).
	platform := platformX86
	if a, ok := p.get("--platform-architecture"); ok {
		if strings.EqualFold(a, "arm") {
			platform = platformARM
		}
	} else if osTypeARM(ostype) {
		platform = platformARM
	}
	v := &vm{
		Name: name, UUID: newUUID(), Folder: filepath.Join(base, name), OSType: ostype, Platform: platform,
		CPUs: 1, MemoryMB: 128, Firmware: "BIOS", Boot: [4]string{"floppy", "dvd", "disk", "none"},
		Settings: map[string]string{}, NICs: map[int]*nic{1: {Attachment: "nat", Type: "Am79C973", Cable: true, MAC: newMAC()}},
		State: "poweroff",
	}
	if platform == platformARM {
		// The arm platform's defaults: UEFI, its one chipset, and an
		// Intel NIC (it has no PCnet).
		v.Firmware = "EFI"
		v.Settings["--chipset"] = "armv8virtual"
		v.NICs[1].Type = "82540EM"
	}
	if u, ok := p.get("--uuid"); ok {
		v.UUID = strings.Trim(u, "{}")
	}
	v.setState("poweroff")
	if _, err := os.Stat(v.cfgFile()); err == nil {
		return apiError("Machine settings file '"+v.cfgFile()+"' already exists", "VBOX_E_FILE_ERROR (0x80bb0004)",
			"MachineWrap", "IMachine", `"CreateMachine(...)" at line 3167 of file VBoxManageMisc.cpp`)
	}
	register := p.has("--register")
	if register {
		for _, o := range e.st.VMs {
			if o.UUID == v.UUID {
				return apiError("Cannot register the machine '"+name+"' because a machine with the same UUID already exists", "VBOX_E_OBJECT_IN_USE (0x80bb000c)", "VirtualBoxWrap", "IVirtualBox", `"RegisterMachine(machine)" at line 3229 of file VBoxManageMisc.cpp`)
			}
		}
	}
	if err := os.MkdirAll(v.logDir(), 0o700); err != nil {
		return apiError("Could not create the directory '"+v.Folder+"' ("+err.Error()+")", "VBOX_E_IPRT_ERROR (0x80bb0005)", "MachineWrap", "IMachine", `"SaveSettings()" at line 3215 of file VBoxManageMisc.cpp`)
	}
	if err := os.WriteFile(v.cfgFile(), []byte("<?xml version=\"1.0\"?>\n<!-- written by the VBoxManage double; its state is in VBOXDOUBLE_HOME -->\n<VirtualBox><Machine uuid=\"{"+v.UUID+"}\" name=\""+name+"\"/></VirtualBox>\n"), 0o600); err != nil {
		return err
	}
	reg := ""
	if register {
		e.st.VMs = append(e.st.VMs, v)
		e.changed = true
		reg = " and registered"
	}
	fmt.Fprintf(e.stdout, "Virtual machine '%s' is created%s.\nUUID: %s\nSettings file: '%s'\n", name, reg, v.UUID, v.cfgFile())
	return nil
}

// maxNICs is the NIC count of the piix3 chipset.
const maxNICs = 8

func modifyVM(e *env, args []string) error {
	if len(args) < 2 {
		return &usageError{"Not enough parameters", 2}
	}
	// VBoxManage finds and locks the VM before it reads the options.
	orig := e.st.findVM(args[0])
	if orig == nil {
		return vmNotFound(args[0], "VBoxManageModifyVM.cpp")
	}
	if orig.live() {
		return lockedError(orig.Name, "VBoxManageModifyVM.cpp")
	}
	p, err := getopt(args[1:], spec.Commands["modifyvm"].Options, e.ver, false, 1)
	if err != nil {
		return err
	}
	if len(p.pos) > 0 {
		return &usageError{"Invalid parameter '" + p.pos[0] + "'", 1}
	}
	v := cloneVM(orig) // a transaction: nothing is saved when an option fails
	for _, o := range p.opts {
		if v.arm() && o.spec.x86Only() {
			// VBoxManage gets the VM's x86 platform settings without
			// checking the result; an arm VM has none (IPlatform::X86
			// fails with VBOX_E_PLATFORM_ARCH_NOT_SUPPORTED), and
			// handleModifyVM_x86 calls through the null pointer.
			return &crashError{why: fmt.Sprintf("modifyvm %s on the arm VM %q: VirtualBox 7.1's VBoxManage applies it to the VM's x86 platform settings, which an arm VM has not, through a null pointer (handleModifyVM_x86 in VBoxManageModifyVM.cpp); nothing is saved", o.Typed, v.Name)}
		}
		if err := e.applyModify(v, o); err != nil {
			return err
		}
	}
	*orig = *v
	e.changed = true
	return nil
}

func cloneVM(v *vm) *vm {
	c := *v
	c.Settings = map[string]string{}
	for k, s := range v.Settings {
		c.Settings[k] = s
	}
	c.NICs = map[int]*nic{}
	for i, n := range v.NICs {
		nn := *n
		nn.Rules = nil
		for _, r := range n.Rules {
			rr := *r
			nn.Rules = append(nn.Rules, &rr)
		}
		c.NICs[i] = &nn
	}
	return &c
}

func (v *vm) nic(i int) *nic {
	n, ok := v.NICs[i]
	if !ok {
		n = &nic{Attachment: "none", Type: "Am79C973", Cable: true, MAC: newMAC()}
		v.NICs[i] = n
	}
	return n
}

func (e *env) applyModify(v *vm, o opt) error {
	if o.spec.nicIndexed() {
		if o.Index < 1 || o.Index > maxNICs {
			// VBoxManage only complains; the option is skipped.
			fmt.Fprintf(e.stderr, "VBoxManage: error: Invalid NIC number %d\n", o.Index)
			return nil
		}
	}
	on := strings.EqualFold(o.Value, "on")
	switch o.Name {
	case "--name":
		v.Name = o.Value
	case "--os-type":
		if _, ok := osTypes[o.Value]; !ok {
			return apiError("Unknown or invalid guest OS type given.", "E_INVALIDARG (0x80070057)", "MachineWrap", "IMachine", `"COMSETTER(OSTypeId)(bstr.raw())" at line 741 of file VBoxManageModifyVM.cpp`)
		}
		v.OSType = o.Value
	case "--memory":
		v.MemoryMB, _ = strconv.Atoi(o.Value)
	case "--cpus":
		v.CPUs, _ = strconv.Atoi(o.Value)
	case "--firmware":
		v.Firmware = strings.ToUpper(o.Value)
	case "--boot":
		if o.Index < 1 || o.Index > 4 {
			return &usageError{"Invalid boot slot " + strconv.Itoa(o.Index), 1}
		}
		v.Boot[o.Index-1] = strings.ToLower(o.Value)
	case "--nic":
		n := v.nic(o.Index)
		n.Attachment = strings.ToLower(o.Value)
		if n.Attachment == "hostif" {
			n.Attachment = "bridged"
		}
	case "--nic-type":
		v.nic(o.Index).Type = canonEnum(o.spec, o.Value)
	case "--cable-connected":
		v.nic(o.Index).Cable = on
	case "--host-only-adapter":
		if e.st.findHostOnly(o.Value) == nil && o.Value != "none" {
			fmt.Fprintf(e.stderr, "VBoxManage: warning: Interface \"%s\" doesn't seem to exist\n", o.Value)
		}
		v.nic(o.Index).HostOnly = o.Value
	case "--nic-promisc":
		v.nic(o.Index).Promisc = strings.ToLower(o.Value)
	case "--mac-address":
		mac := strings.ToUpper(o.Value)
		if strings.EqualFold(o.Value, "auto") {
			mac = newMAC()
		} else if len(mac) != 12 || strings.Trim(mac, "0123456789ABCDEF") != "" {
			return apiError("Invalid MAC address format", "E_INVALIDARG (0x80070057)", "NetworkAdapterWrap", "INetworkAdapter", `"COMSETTER(MACAddress)(Bstr(ValueUnion.psz).raw())" at line 2021 of file VBoxManageModifyVM.cpp`)
		}
		v.nic(o.Index).MAC = mac
	case "--nat-pf":
		return natPF(v.nic(o.Index), o, o.Typed)
	default:
		key := o.Typed
		if o.spec.Indexed {
			key += strconv.Itoa(o.Index)
		}
		v.Settings[key] = o.Value
	}
	return nil
}

// natPF adds or deletes a NAT rule as modifyvm --natpf<N> and controlvm
// natpf<N> do.
func natPF(n *nic, o opt, typed string) error {
	if o.Value == "delete" {
		for i, r := range n.Rules {
			if r.Name == o.Extra {
				n.Rules = append(n.Rules[:i], n.Rules[i+1:]...)
				return nil
			}
		}
		return &runtimeError{lines: []string{
			"Code NS_ERROR_INVALID_ARG (0x80070057) - Invalid argument value (extended info not available)",
			`Context: "RemoveRedirect(Bstr(ValueUnion.psz).raw())" at line 1766 of file VBoxManageModifyVM.cpp`,
		}, exit: 1}
	}
	f := strings.Split(o.Value, ",")
	if len(f) != 6 {
		return &usageError{"Missing or invalid argument to '" + typed + "'", 2}
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	proto := strings.ToLower(f[1])
	if proto != "tcp" && proto != "udp" {
		return &runtimeError{lines: []string{fmt.Sprintf("Invalid proto '%s' specfied for NIC %d", o.Value, o.Index)}, exit: 1}
	}
	hp, _ := strconv.ParseUint(f[3], 10, 16)
	gp, _ := strconv.ParseUint(f[5], 10, 16)
	r := &rule{Name: f[0], Proto: proto, HostIP: f[2], HostPort: int(hp), GuestIP: f[4], GuestPort: int(gp)}
	if r.Name == "" {
		r.Name = fmt.Sprintf("%s_%d_%d", proto, hp, gp)
	}
	ctx := `"AddRedirect(Bstr(strName).raw(), proto, Bstr(strHostIp).raw(), RTStrToUInt16(strHostPort), Bstr(strGuestIp).raw(), RTStrToUInt16(strGuestPort))" at line 1730 of file VBoxManageModifyVM.cpp`
	for _, x := range n.Rules {
		if x.Name == r.Name {
			return apiError("A NAT rule of this name already exists", "NS_ERROR_INVALID_ARG (0x80070057)", "NATEngineWrap", "INATEngine", ctx)
		}
		if x.Proto == r.Proto && x.HostIP == r.HostIP && x.HostPort == r.HostPort {
			return apiError("A NAT rule for this host port and this host IP already exists", "NS_ERROR_INVALID_ARG (0x80070057)", "NATEngineWrap", "INATEngine", ctx)
		}
	}
	n.Rules = append(n.Rules, r)
	return nil
}

func storageCtl(e *env, args []string) error {
	if len(args) < 4 {
		return &usageError{"Too few parameters", 2}
	}
	p, err := getopt(args[1:], spec.Commands["storagectl"].Options, e.ver, false, 2)
	if err != nil {
		return err
	}
	if len(p.pos) > 0 {
		return &usageError{"Invalid parameter '" + p.pos[0] + "'", 2}
	}
	name, ok := p.get("--name")
	if !ok {
		return &usageError{"Storage controller name not specified", 2}
	}
	v := e.st.findVM(args[0])
	if v == nil {
		return vmNotFound(args[0], "VBoxManageStorageController.cpp")
	}
	if v.live() {
		return lockedError(v.Name, "VBoxManageStorageController.cpp")
	}
	var c *controller
	for _, x := range v.Controllers {
		if x.Name == name {
			c = x
		}
	}
	if bus, ok := p.get("--add"); ok {
		if c != nil {
			return apiError("Storage controller named '"+name+"' already exists", "VBOX_E_OBJECT_IN_USE (0x80bb000c)", "SessionMachine", "IMachine", `"AddStorageController(Bstr(pszCtl).raw(), StorageBus_SATA, ctl.asOutParam())" at line 1006 of file VBoxManageStorageController.cpp`)
		}
		bus = strings.ToLower(bus)
		c = &controller{Name: name, Bus: bus, Type: map[string]string{"sata": "IntelAhci", "ide": "PIIX4", "scsi": "LsiLogic", "sas": "LsiLogicSas", "pcie": "NVMe", "virtio-scsi": "VirtioSCSI", "virtio": "VirtioSCSI", "floppy": "I82078", "usb": "USB"}[bus], Ports: 30, Bootable: true}
		if bus == "ide" {
			c.Ports = 2
		}
		v.Controllers = append(v.Controllers, c)
	}
	if c == nil {
		return &runtimeError{lines: []string{"Couldn't find the controller with the name: '" + name + "'"}, exit: 1}
	}
	if p.has("--remove") {
		for i, x := range v.Controllers {
			if x == c {
				v.Controllers = append(v.Controllers[:i], v.Controllers[i+1:]...)
			}
		}
	}
	if s, ok := p.get("--hostiocache"); ok {
		c.HostIOCache = strings.EqualFold(s, "on")
	}
	if s, ok := p.get("--bootable"); ok {
		c.Bootable = strings.EqualFold(s, "on")
	}
	if s, ok := p.get("--portcount"); ok {
		c.Ports, _ = strconv.Atoi(s)
	}
	if s, ok := p.get("--rename"); ok {
		c.Name = s
	}
	e.changed = true
	return nil
}

func storageAttach(e *env, args []string) error {
	if len(args) < 2 {
		return &usageError{"Not enough parameters", 2}
	}
	p, err := getopt(args[1:], spec.Commands["storageattach"].Options, e.ver, false, 1)
	if err != nil {
		return err
	}
	if len(p.pos) > 0 {
		return &usageError{"Invalid parameter '" + p.pos[0] + "'", 2}
	}
	ctl, ok := p.get("--storagectl")
	if !ok {
		return &usageError{"Storage controller name not specified", 2}
	}
	v := e.st.findVM(args[0])
	if v == nil {
		return vmNotFound(args[0], "VBoxManageStorageController.cpp")
	}
	var c *controller
	for _, x := range v.Controllers {
		if x.Name == ctl {
			c = x
		}
	}
	if c == nil {
		return &runtimeError{lines: []string{"Could not find a controller named '" + ctl + "'"}, exit: 1}
	}
	port, device := 0, 0
	if s, ok := p.get("--port"); ok {
		port, _ = strconv.Atoi(s)
	} else if c.Ports > 1 {
		return &usageError{"Port not specified", 2}
	}
	if s, ok := p.get("--device"); ok {
		device, _ = strconv.Atoi(s)
	} else if c.Bus == "ide" {
		return &usageError{"Device not specified", 2}
	}
	if port >= 30 {
		return apiError(fmt.Sprintf("Invalid port number %d", port), "E_INVALIDARG (0x80070057)", "SessionMachine", "IMachine", `"AttachDevice(...)" at line 700 of file VBoxManageStorageController.cpp`)
	}
	if port >= c.Ports {
		c.Ports = port + 1
	}
	kind, _ := p.get("--type")
	kind = strings.ToLower(kind)
	med, ok := p.get("--medium")
	if !ok {
		e.changed = true
		return nil // only attachment settings
	}
	cur := v.attachment(ctl, port, device)
	if v.live() && (kind == "hdd" || cur != nil && cur.Type == "hdd") {
		return apiError("Invalid machine state: Running", "VBOX_E_INVALID_VM_STATE (0x80bb0002)", "SessionMachine", "IMachine", `"AttachDevice(...)" at line 1089 of file VBoxManageStorageController.cpp`)
	}
	switch strings.ToLower(med) {
	case "none":
		v.detach(e.st, ctl, port, device)
		e.changed = true
		return nil
	case "emptydrive":
		if kind == "" && cur != nil {
			kind = cur.Type
		}
		v.detach(e.st, ctl, port, device)
		v.Attachments = append(v.Attachments, &attachment{Controller: ctl, Port: port, Device: device, Type: kind, Medium: "emptydrive"})
		e.changed = true
		return nil
	}
	if kind == "" {
		if cur == nil {
			return &usageError{"Argument --type must be specified", 2}
		}
		kind = cur.Type
	}
	m := e.st.findMedium(med)
	if m == nil {
		path, _ := filepath.Abs(med)
		if _, err := os.Stat(path); err != nil {
			return apiError("Could not find file for the medium '"+path+"' (VERR_FILE_NOT_FOUND)", "VBOX_E_FILE_ERROR (0x80bb0004)", "MediumWrap", "IMedium", `"OpenMedium(Bstr(pszMedium).raw(), devTypeRequested, accessMode, fForceNewUuidOnOpen, pMedium2Mount.asOutParam())" at line 1207 of file VBoxManageStorageController.cpp`)
		}
		m = &medium{UUID: newUUID(), Path: path, Kind: map[string]string{"hdd": "disk", "dvddrive": "dvd", "fdd": "floppy"}[kind], Format: formatOf(path)}
		e.st.Media = append(e.st.Media, m)
	}
	if m.Kind == "disk" && m.Attached != "" && m.Attached != v.UUID {
		return apiError("Medium '"+m.Path+"' is already attached to another virtual machine", "VBOX_E_OBJECT_IN_USE (0x80bb000c)", "SessionMachine", "IMachine", `"AttachDevice(...)" at line 1089 of file VBoxManageStorageController.cpp`)
	}
	v.detach(e.st, ctl, port, device)
	m.Attached = v.UUID
	v.Attachments = append(v.Attachments, &attachment{Controller: ctl, Port: port, Device: device, Type: kind, Medium: m.Path, UUID: m.UUID})
	e.changed = true
	return nil
}

func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".vdi":
		return "VDI"
	case ".vmdk":
		return "VMDK"
	case ".vhd":
		return "VHD"
	}
	return "RAW"
}

func (v *vm) attachment(ctl string, port, device int) *attachment {
	for _, a := range v.Attachments {
		if a.Controller == ctl && a.Port == port && a.Device == device {
			return a
		}
	}
	return nil
}

func (v *vm) detach(st *state, ctl string, port, device int) {
	for i, a := range v.Attachments {
		if a.Controller == ctl && a.Port == port && a.Device == device {
			v.Attachments = append(v.Attachments[:i], v.Attachments[i+1:]...)
			if m := st.findMedium(a.UUID); m != nil && !v.uses(m.UUID) {
				m.Attached = ""
			}
			return
		}
	}
}

func (v *vm) uses(uuid string) bool {
	for _, a := range v.Attachments {
		if a.UUID == uuid {
			return true
		}
	}
	return false
}

func unregisterVM(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["unregistervm"].Options, e.ver, true, 2)
	if err != nil {
		return err
	}
	if len(p.pos) == 0 {
		return &usageError{"VM name required", 2}
	}
	if len(p.pos) > 1 {
		return &usageError{"Invalid parameter '" + p.pos[1] + "'", 2}
	}
	v := e.st.findVM(p.pos[0])
	if v == nil {
		return vmNotFound(p.pos[0], "VBoxManageMisc.cpp")
	}
	if v.live() {
		return apiError("Cannot unregister the machine '"+v.Name+"' while it is locked", "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)", "MachineWrap", "IMachine", `"Unregister(CleanupMode_DetachAllReturnHardDisksOnly, ComSafeArrayAsOutParam(aMedia))" at line 200 of file VBoxManageMisc.cpp`)
	}
	for i, x := range e.st.VMs {
		if x == v {
			e.st.VMs = append(e.st.VMs[:i], e.st.VMs[i+1:]...)
			break
		}
	}
	deleteAll := p.has("--delete-all")
	del := p.has("--delete") || deleteAll
	var keep []*medium
	for _, m := range e.st.Media {
		if m.Attached != v.UUID {
			keep = append(keep, m)
			continue
		}
		if del && (m.Kind == "disk" || deleteAll) {
			os.Remove(m.Path)
		}
	}
	e.st.Media = keep
	if del {
		fmt.Fprint(e.stderr, "0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n")
		os.Remove(v.cfgFile())
		os.Remove(v.cfgFile() + "-prev")
		os.Remove(v.nvramFile())
		os.RemoveAll(v.logDir())
		os.Remove(v.Folder) // only when empty, as VirtualBox does
	}
	e.changed = true
	return nil
}

func list(e *env, args []string) error {
	p, err := getopt(args, spec.Commands["list"].Options, e.ver, false, 2)
	if err != nil {
		return err
	}
	if len(p.pos) == 0 {
		return &usageError{`Missing subcommand for "list" command.`, 2}
	}
	if len(p.pos) > 1 {
		return &usageError{"Invalid parameter '" + p.pos[1] + "'", 2}
	}
	if p.has("--long") {
		return notImplemented("list --long")
	}
	switch p.pos[0] {
	case "vms", "runningvms":
		for _, v := range e.st.VMs {
			if p.pos[0] == "vms" || v.live() {
				fmt.Fprintf(e.stdout, "\"%s\" {%s}\n", v.Name, v.UUID)
			}
		}
		return nil
	case "hostonlyifs":
		listHostOnlyIfs(e)
		return nil
	case "dhcpservers":
		listDHCPServers(e)
		return nil
	}
	var types []struct {
		Name    string   `json:"name"`
		Aliases []string `json:"aliases"`
	}
	raw, _ := jsonField(specJSON, "commands", "list", "list_types")
	jsonUnmarshal(raw, &types)
	for _, t := range types {
		if t.Name == p.pos[0] || contains(t.Aliases, p.pos[0]) {
			return notImplemented("list " + p.pos[0])
		}
	}
	return &usageError{fmt.Sprintf("Unknown subcommand \"%s\".", p.pos[0]), 2}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
