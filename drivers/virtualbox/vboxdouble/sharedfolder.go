package vboxdouble

import (
	"os"
	"path/filepath"
	"strings"
)

func init() { handlers["sharedfolder"] = sharedFolderCmd }

// sharedFolder is a permanent shared folder of a VM. At startvm the double
// exports it to QEMU as a virtio-9p device whose mount tag is its name,
// which berth-os mounts in place of vboxsf.
type sharedFolder struct {
	Name           string `json:"name"`
	HostPath       string `json:"hostPath"`
	ReadOnly       bool   `json:"readOnly,omitempty"`
	AutoMount      bool   `json:"autoMount,omitempty"`
	AutoMountPoint string `json:"autoMountPoint,omitempty"`
}

func sharedFolderCmd(e *env, args []string) error {
	sub := args[0]
	switch sub {
	case "add", "remove":
	case "modify":
		return notImplemented("sharedfolder modify")
	default:
		return &usageError{"Unknown subcommand: " + sub, 2}
	}
	opts, _ := subOptions("sharedfolder", sub)
	p, err := getopt(args[1:], opts, e.ver, false, 2)
	if err != nil {
		return err
	}
	switch {
	case len(p.pos) == 0:
		return &usageError{"No machine was specified", 2}
	case len(p.pos) > 1:
		return &usageError{"Machine name given more than once: first '" + p.pos[0] + "', then '" + p.pos[1] + "'", 2}
	}
	name, ok := p.get("--name")
	if !ok {
		return &usageError{"No shared folder name (--name) was given", 2}
	}
	if p.has("--transient") {
		// A transient share would need a 9p device hot-plugged into QEMU.
		return notImplemented("transient shared folders (sharedfolder " + sub + " --transient)")
	}
	v := e.st.findVM(p.pos[0])
	if v == nil {
		return vmNotFound(p.pos[0], "VBoxManageMisc.cpp")
	}
	if v.live() {
		return lockedError(v.Name, "VBoxManageMisc.cpp")
	}
	if sub == "remove" {
		for i, f := range v.SharedFolders {
			if f.Name == name {
				v.SharedFolders = append(v.SharedFolders[:i], v.SharedFolders[i+1:]...)
				e.changed = true
				return nil
			}
		}
		return apiError("Could not find a shared folder named '"+name+"'.", "VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)", "SessionMachine", "IMachine",
			`"RemoveSharedFolder(Bstr(pszName).raw())" at line 1226 of file VBoxManageMisc.cpp`)
	}
	host, ok := p.get("--hostpath")
	if !ok {
		return &usageError{"No host path (--hostpath) was given", 2}
	}
	if strings.ContainsAny(name, " \t\r\n") {
		return &usageError{"Invalid shared folder name '" + name + "': contains space", 2}
	}
	if abs, err := filepath.Abs(host); err == nil {
		host = abs // VBoxManage makes the path absolute
	}
	for _, f := range v.SharedFolders {
		if f.Name == name {
			return apiError("Shared folder named '"+name+"' already exists", "VBOX_E_OBJECT_IN_USE (0x80bb000c)", "SessionMachine", "IMachine",
				`"CreateSharedFolder(Bstr(pszName).raw(), Bstr(hostpath).raw(), !fWritable, fAutoMount, Bstr(pszAutoMountPoint).raw())" at line 1175 of file VBoxManageMisc.cpp`)
		}
	}
	point, _ := p.get("--auto-mount-point")
	v.SharedFolders = append(v.SharedFolders, &sharedFolder{Name: name, HostPath: host, ReadOnly: p.has("--readonly"), AutoMount: p.has("--automount"), AutoMountPoint: point})
	e.changed = true
	return nil
}

// virtfsArgs exports v's shared folders to QEMU as virtio-9p devices
// tagged with their names. A folder whose host path is gone is left out
// (VirtualBox starts the VM and warns; see missingShares).
func (v *vm) virtfsArgs() []string {
	var a []string
	for _, f := range v.SharedFolders {
		if !isDir(f.HostPath) {
			continue
		}
		arg := "local,path=" + qemuPath(f.HostPath) + ",mount_tag=" + qemuPath(f.Name) + ",security_model=none,multidevs=remap"
		if f.ReadOnly {
			arg += ",readonly=on"
		}
		a = append(a, "-virtfs", arg)
	}
	return a
}

// missingShares are VBox.log lines for the shared folders whose host
// folder is gone.
func (v *vm) missingShares() []string {
	var lines []string
	for _, f := range v.SharedFolders {
		if !isDir(f.HostPath) {
			lines = append(lines, "Shared folder '"+f.Name+"' could not be set up: host path '"+f.HostPath+"' does not exist")
		}
	}
	return lines
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
