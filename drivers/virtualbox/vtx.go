package virtualbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNoHWVirt marks failures caused by missing or disabled hardware
// virtualization (VT-x / AMD-V).
var ErrNoHWVirt = errors.New("hardware virtualization (VT-x/AMD-V) is not available")

// vtxRemedy is what the user can do about ErrNoHWVirt.
const vtxRemedy = "enable VT-x/AMD-V in the computer's BIOS/UEFI settings; on Windows also turn Hyper-V off " +
	"(bcdedit /set hypervisorlaunchtype off, then reboot); in a VM, enable nested virtualization; " +
	"or use --driver qemu, or skip this check with --virtualbox-no-vtx-check"

// cpuHasHWVirt reads /proc/cpuinfo text: a vmx (Intel) or svm (AMD) flag
// means the CPU offers hardware virtualization to this OS.
func cpuHasHWVirt(cpuinfo string) bool {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) != "flags" {
			continue
		}
		for _, f := range strings.Fields(v) {
			if f == "vmx" || f == "svm" {
				return true
			}
		}
	}
	return false
}

// checkHostHWVirt checks the host CPU where the OS tells (Linux). Elsewhere
// VirtualBox's own log tells after a failed start (logHWVirtProblem).
func checkHostHWVirt(goos string, readFile func(string) ([]byte, error)) error {
	if goos != "linux" {
		return nil
	}
	b, err := readFile("/proc/cpuinfo")
	if err != nil {
		return nil
	}
	if !cpuHasHWVirt(string(b)) {
		return fmt.Errorf("%w: the CPU flags in /proc/cpuinfo have neither vmx nor svm; %s", ErrNoHWVirt, vtxRemedy)
	}
	return nil
}

// vtxLogSigns are VBox.log lines that mean VT-x/AMD-V is missing.
var vtxLogSigns = []string{
	"VT-x is disabled",
	"the host CPU does NOT support HW virtualization",
	"VERR_VMX_UNABLE_TO_START_VM",
	"VERR_VMX_NO_VMX",
	"VERR_SVM_NO_SVM",
	"AMD-V is disabled",
}

// logHWVirtProblem returns the VBox.log line that shows a hardware
// virtualization problem, or "". "Falling back to raw-mode: VT-x is
// disabled in the BIOS for all CPU modes" is not a failure.
func logHWVirtProblem(log string) string {
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "Falling back to raw-mode") {
			continue
		}
		for _, s := range vtxLogSigns {
			if strings.Contains(line, s) {
				return strings.TrimSpace(line)
			}
		}
	}
	return ""
}

// diagnoseStart explains a failed or aborted start from the VM's VBox.log:
// a VT-x/AMD-V problem with its remedy, else the log's last lines.
func diagnoseStart(logDir string) error {
	p := filepath.Join(logDir, "VBox.log")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil
	}
	if line := logHWVirtProblem(string(b)); line != "" {
		return fmt.Errorf("%w (%s says %q): %s", ErrNoHWVirt, p, line, vtxRemedy)
	}
	lines := nonEmpty(strings.Split(string(b), "\n"))
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	if len(lines) == 0 {
		return nil
	}
	return fmt.Errorf("the last lines of %s: %s", p, strings.Join(lines, " | "))
}

func nonEmpty(lines []string) []string {
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
