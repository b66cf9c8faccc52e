package virtualbox

import (
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// vmInfo is what the driver reads from `showvminfo --machinereadable`.
type vmInfo struct {
	Name     string
	UUID     string
	VMState  string // "running", "poweroff", ...
	CPUs     int
	MemoryMB int
	LogDir   string
	// Media maps "SATA-0-0" style slots to the attached medium's path.
	Media map[string]string
	// Forwards are NIC 1's NAT rules by name ("ssh" -> "ssh,tcp,127.0.0.1,2222,,22").
	Forwards map[string]string
	// MACs maps a NIC number to its MAC address ("080027E2A6F1").
	MACs map[int]string
	// SharedFolders maps the permanent shared folders' names to their host
	// paths.
	SharedFolders map[string]string
}

// parseMachineReadable reads `showvminfo --machinereadable` output. It
// takes every quirk VirtualBox prints: unquoted numbers, quoted keys,
// escaped values (7.0+), lines without '=' and text after a closing quote;
// unknown keys are ignored.
func parseMachineReadable(out string) vmInfo {
	info := vmInfo{Media: map[string]string{}, Forwards: map[string]string{}, MACs: map[int]string{}, SharedFolders: map[string]string{}}
	nic := 0 // the NIC whose block is being read (Forwarding keys carry no NIC number)
	// Shared folder N's name and host path.
	shareNames, sharePaths := map[string]string{}, map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		key, val, ok := splitKV(strings.TrimRight(line, "\r"))
		if !ok {
			continue
		}
		switch {
		case key == "name":
			info.Name = val
		case key == "UUID":
			info.UUID = val
		case key == "VMState":
			info.VMState = val
		case key == "cpus":
			info.CPUs, _ = strconv.Atoi(val)
		case key == "memory":
			info.MemoryMB, _ = strconv.Atoi(val)
		case key == "LogFldr":
			info.LogDir = val
		case strings.HasPrefix(key, "macaddress"):
			if n, err := strconv.Atoi(key[len("macaddress"):]); err == nil {
				info.MACs[n] = val
				nic = n
			}
		case strings.HasPrefix(key, "nic") && !strings.HasPrefix(key, "nictype") && !strings.HasPrefix(key, "nicspeed"):
			if n, err := strconv.Atoi(key[len("nic"):]); err == nil {
				nic = n
			}
		case strings.HasPrefix(key, "Forwarding("):
			if nic == 1 || nic == 0 {
				name, _, _ := strings.Cut(val, ",")
				info.Forwards[name] = val
			}
		case strings.HasPrefix(key, "SharedFolderNameMachineMapping"):
			shareNames[key[len("SharedFolderNameMachineMapping"):]] = val
		case strings.HasPrefix(key, "SharedFolderPathMachineMapping"):
			sharePaths[key[len("SharedFolderPathMachineMapping"):]] = val
		case isMediumSlot(key):
			if val != "none" && val != "emptydrive" {
				info.Media[key] = val
			}
		}
	}
	for n, name := range shareNames {
		info.SharedFolders[name] = sharePaths[n]
	}
	return info
}

// isMediumSlot reports whether key is a medium line of the driver's
// controller ("SATA-0-0", "VirtioSCSI-1-0").
func isMediumSlot(key string) bool {
	for _, c := range []string{sataController, virtioController} {
		if strings.HasPrefix(key, c+"-") && isSlot(key[len(c)+1:]) {
			return true
		}
	}
	return false
}

// isSlot reports whether s is "<port>-<device>".
func isSlot(s string) bool {
	p, d, ok := strings.Cut(s, "-")
	if !ok {
		return false
	}
	_, e1 := strconv.Atoi(p)
	_, e2 := strconv.Atoi(d)
	return e1 == nil && e2 == nil
}

// splitKV splits one machine-readable line into key and value, removing
// quotes and VirtualBox 7's escapes.
func splitKV(line string) (key, val string, ok bool) {
	if strings.HasPrefix(line, `"`) {
		end := closingQuote(line, 1)
		if end < 0 || end+1 >= len(line) || line[end+1] != '=' {
			return "", "", false
		}
		key, line = unescape(line[1:end]), line[end+2:]
	} else {
		var found bool
		key, line, found = strings.Cut(line, "=")
		if !found || key == "" || strings.ContainsAny(key, " \t") {
			return "", "", false
		}
	}
	if strings.HasPrefix(line, `"`) {
		end := closingQuote(line, 1)
		if end < 0 {
			return key, unescape(line[1:]), true
		}
		return key, unescape(line[1:end]), true
	}
	return key, strings.TrimPrefix(line, "="), true
}

// closingQuote finds the quote that ends a string starting at i, skipping
// backslash escapes.
func closingQuote(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stateOf maps a VMState word to berth's state.
func stateOf(vmState string) drivers.State {
	switch vmState {
	case "running":
		return drivers.StateRunning
	case "paused":
		return drivers.StatePaused
	case "saved", "aborted-saved":
		return drivers.StateSaved
	case "poweroff", "aborted":
		return drivers.StateStopped
	case "starting", "restoring":
		return drivers.StateStarting
	case "stopping", "saving":
		return drivers.StateStopping
	default:
		return drivers.StateNone
	}
}
