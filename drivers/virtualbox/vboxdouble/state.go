package vboxdouble

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

// state is everything the double's "VBoxSVC" knows.
type state struct {
	VMs         []*vm         `json:"vms"` // registration order
	Media       []*medium     `json:"media"`
	HostOnlyIfs []*hostOnlyIf `json:"hostOnlyIfs"`
	DHCP        []*dhcpServer `json:"dhcpServers"`
}

// vm is one registered machine.
type vm struct {
	Name   string `json:"name"`
	UUID   string `json:"uuid"`
	Folder string `json:"folder"` // basefolder/name
	OSType string `json:"osType"`
	// Platform is the VM's platform architecture, "x86" ("" too) or "ARM"
	// (createvm --platform-architecture, VirtualBox 7.1+); it never changes.
	Platform    string            `json:"platform,omitempty"`
	CPUs        int               `json:"cpus"`
	MemoryMB    int               `json:"memoryMB"`
	Firmware    string            `json:"firmware"`
	Boot        [4]string         `json:"boot"`
	Settings    map[string]string `json:"settings"` // other modifyvm options, as given
	NICs        map[int]*nic      `json:"nics"`
	Controllers []*controller     `json:"controllers"`
	Attachments []*attachment     `json:"attachments"`
	// SharedFolders are the permanent shared folders, in the order added.
	SharedFolders []*sharedFolder `json:"sharedFolders,omitempty"`
	State         string          `json:"state"` // VMState word
	StateChange   time.Time       `json:"stateChange"`
	PID           int             `json:"pid,omitempty"`
	QMP           string          `json:"qmp,omitempty"`
	Frontend      string          `json:"frontend,omitempty"`
	// PowerButton is set when an ACPI power-off was asked for.
	PowerButton bool `json:"powerButton,omitempty"`
}

// nic is a network adapter.
type nic struct {
	Attachment string  `json:"attachment"` // none, null, nat, hostonly, bridged, intnet, generic, natnetwork
	Type       string  `json:"type"`       // 82540EM, virtio, ...
	Cable      bool    `json:"cable"`
	MAC        string  `json:"mac"`
	HostOnly   string  `json:"hostOnly,omitempty"`
	Promisc    string  `json:"promisc,omitempty"`
	Rules      []*rule `json:"rules,omitempty"`
}

// rule is a NAT port forward.
type rule struct {
	Name      string `json:"name"`
	Proto     string `json:"proto"`
	HostIP    string `json:"hostIP"`
	HostPort  int    `json:"hostPort"`
	GuestIP   string `json:"guestIP"`
	GuestPort int    `json:"guestPort"`
}

func (r *rule) String() string {
	return fmt.Sprintf("%s,%s,%s,%d,%s,%d", r.Name, r.Proto, r.HostIP, r.HostPort, r.GuestIP, r.GuestPort)
}

// controller is a storage controller.
type controller struct {
	Name        string `json:"name"`
	Bus         string `json:"bus"`  // sata, ide, ...
	Type        string `json:"type"` // IntelAhci, PIIX4, ...
	Ports       int    `json:"ports"`
	HostIOCache bool   `json:"hostIOCache"`
	Bootable    bool   `json:"bootable"`
}

// attachment is a medium (or an empty drive) on a controller port.
type attachment struct {
	Controller string `json:"controller"`
	Port       int    `json:"port"`
	Device     int    `json:"device"`
	Type       string `json:"type"` // hdd, dvddrive
	Medium     string `json:"medium"`
	UUID       string `json:"uuid"`
}

// medium is a registered disk or image.
type medium struct {
	UUID     string `json:"uuid"`
	Path     string `json:"path"`
	Kind     string `json:"kind"` // disk, dvd
	Format   string `json:"format"`
	Attached string `json:"attached,omitempty"` // the VM's UUID
}

func loadState(home string) (*state, error) {
	st := &state{}
	b, err := os.ReadFile(filepath.Join(home, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, err
	}
	for _, v := range st.VMs {
		v.refresh()
	}
	return st, nil
}

func (st *state) save(home string) error {
	return atomicfile.WriteJSON(filepath.Join(home, "state.json"), st)
}

// refresh notices a QEMU process that ended: the guest powered off (or
// the process died).
func (v *vm) refresh() {
	if (v.State == "running" || v.State == "paused") && (!alive(v.PID) || !v.isOurs()) {
		v.setState("poweroff")
		v.PID = 0
	}
}

func (v *vm) setState(s string) {
	v.State = s
	v.StateChange = time.Now().UTC()
}

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := signal(pid, 0); err != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state letter follows the parenthesised command name.
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2] != 'Z'
		}
	}
	return true
}

// findVM looks a VM up by name, UUID or settings file, as VirtualBox does.
func (st *state) findVM(arg string) *vm {
	for _, v := range st.VMs {
		if v.Name == arg || v.UUID == arg || "{"+v.UUID+"}" == arg || v.cfgFile() == arg {
			return v
		}
	}
	return nil
}

func (v *vm) cfgFile() string { return filepath.Join(v.Folder, v.Name+".vbox") }

// nvramFile is the VM's UEFI variable store, beside its settings as
// VirtualBox keeps it (<name>.nvram).
func (v *vm) nvramFile() string { return filepath.Join(v.Folder, v.Name+".nvram") }

// platform is the VM's platform architecture as showvminfo prints it.
func (v *vm) platform() string {
	if v.arm() {
		return platformARM
	}
	return platformX86
}

// arm reports whether the VM is on VirtualBox's arm platform.
func (v *vm) arm() bool { return v.Platform == platformARM }

// The platform architectures as showvminfo prints them.
const (
	platformX86 = "x86"
	platformARM = "ARM"
)

func (v *vm) logDir() string { return filepath.Join(v.Folder, "Logs") }

// live reports whether the VM has a session (modifyvm is locked out).
func (v *vm) live() bool { return v.State == "running" || v.State == "paused" }

func (st *state) findMedium(arg string) *medium {
	for _, m := range st.Media {
		if m.UUID == arg || "{"+m.UUID+"}" == arg || m.Path == arg {
			return m
		}
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newMAC makes a MAC in VirtualBox's 08:00:27 range, as it prints them.
func newMAC() string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("080027%02X%02X%02X", b[0], b[1], b[2])
}
