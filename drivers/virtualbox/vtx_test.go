package virtualbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUHasHWVirt(t *testing.T) {
	tests := []struct {
		cpuinfo string
		want    bool
	}{
		{"processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n", true},
		{"flags\t\t: fpu svm lm\n", true},
		{"flags\t\t: fpu vme hypervisor lm\n", false},
		{"vmx flags\t: none here\n", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := cpuHasHWVirt(tt.cpuinfo); got != tt.want {
			t.Errorf("cpuHasHWVirt(%q) = %v; want %v", tt.cpuinfo, got, tt.want)
		}
	}
	read := func(string) ([]byte, error) { return []byte("flags : fpu lm\n"), nil }
	if err := checkHostHWVirt("linux", read); !errors.Is(err, ErrNoHWVirt) || !strings.Contains(err.Error(), "--virtualbox-no-vtx-check") {
		t.Errorf("checkHostHWVirt(linux, no vmx) = %v; want ErrNoHWVirt with the remedy", err)
	}
	if err := checkHostHWVirt("darwin", read); err != nil {
		t.Errorf("checkHostHWVirt(darwin) = %v; want nil (VBox.log tells there)", err)
	}
}

func TestLogHWVirtProblem(t *testing.T) {
	tests := []struct {
		log, want string
	}{
		{"00:00:01.1 VT-x is disabled in the BIOS\n", "00:00:01.1 VT-x is disabled in the BIOS"},
		{"x\n00:00:00.4 HM: HMR3Init: Falling back to raw-mode: VT-x is disabled in the BIOS for all CPU modes\ny\n", ""},
		{"00:00:02 Power up failed (vrc=VERR_VMX_NO_VMX, rc=NS_ERROR_FAILURE (0X80004005))\n", "00:00:02 Power up failed (vrc=VERR_VMX_NO_VMX, rc=NS_ERROR_FAILURE (0X80004005))"},
		{"00:00:02 ... the host CPU does NOT support HW virtualization.\n", "00:00:02 ... the host CPU does NOT support HW virtualization."},
		{"00:00:03 VMSetError: VERR_VMX_UNABLE_TO_START_VM\n", "00:00:03 VMSetError: VERR_VMX_UNABLE_TO_START_VM"},
		{"all fine\n", ""},
	}
	for _, tt := range tests {
		if got := logHWVirtProblem(tt.log); got != tt.want {
			t.Errorf("logHWVirtProblem(%q) = %q; want %q", tt.log, got, tt.want)
		}
	}
}

func TestDiagnoseStart(t *testing.T) {
	dir := t.TempDir()
	if err := diagnoseStart(dir); err != nil {
		t.Errorf("diagnoseStart(no log) = %v; want nil", err)
	}
	os.WriteFile(filepath.Join(dir, "VBox.log"), []byte("a\nPower up failed (vrc=VERR_VMX_NO_VMX, rc=NS_ERROR_FAILURE (0X80004005))\n"), 0o600)
	if err := diagnoseStart(dir); !errors.Is(err, ErrNoHWVirt) || !strings.Contains(err.Error(), "BIOS/UEFI") {
		t.Errorf("diagnoseStart(VMX log) = %v; want ErrNoHWVirt with the remedy", err)
	}
	os.WriteFile(filepath.Join(dir, "VBox.log"), []byte("1\n2\n3\n4\n5\n6\nlast words\n"), 0o600)
	if err := diagnoseStart(dir); err == nil || errors.Is(err, ErrNoHWVirt) || !strings.Contains(err.Error(), "last words") || strings.Contains(err.Error(), "| 2 |") {
		t.Errorf("diagnoseStart(other log) = %v; want the last 5 lines", err)
	}
}
