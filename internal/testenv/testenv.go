// Package testenv lets tests ask for what they need (root, a program, the
// berth-os ISO) and skip with a reason when it is missing, except under
// BERTH_TEST_NOSKIP=1 (CI), where a missing need fails the test.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// NoSkip reports whether skips are forbidden (BERTH_TEST_NOSKIP=1).
func NoSkip() bool { return os.Getenv("BERTH_TEST_NOSKIP") == "1" }

// Skip skips t with reason, or fails it under BERTH_TEST_NOSKIP=1.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if NoSkip() {
		t.Fatalf("missing test dependency (BERTH_TEST_NOSKIP=1 forbids skipping): %s", reason)
	}
	t.Skip(reason)
}

// NeedRoot skips t unless it runs as root on Linux.
func NeedRoot(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" || os.Geteuid() != 0 {
		Skip(t, "needs root on Linux")
	}
}

// NeedCommand skips t unless every named program is on PATH.
func NeedCommand(t testing.TB, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			Skip(t, n+" is not installed (make test installs it: scripts/deps.sh)")
		}
	}
}

// RepoRoot returns the repository's top folder (where go.mod is).
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// ISO returns the berth-os ISO to boot in tests: $BERTH_ISO, else
// build/berth-os.iso in the repository (made by `make iso`).
func ISO(t testing.TB) string {
	t.Helper()
	p := os.Getenv("BERTH_ISO")
	if p == "" {
		p = filepath.Join(RepoRoot(t), "build", "berth-os.iso")
	}
	if _, err := os.Stat(p); err != nil {
		Skip(t, "berth-os ISO not found at "+p+" (run `make iso`)")
	}
	return p
}

// ISOArch returns the berth-os ISO of arch (amd64, arm64) to boot in
// tests: $BERTH_ISO_ARCH (BERTH_ISO_ARM64, ...), else
// build/berth-os-ARCH.iso in the repository (made by `make iso`).
func ISOArch(t testing.TB, arch string) string {
	t.Helper()
	p := os.Getenv("BERTH_ISO_" + strings.ToUpper(arch))
	if p == "" {
		p = filepath.Join(RepoRoot(t), "build", "berth-os-"+arch+".iso")
	}
	if _, err := os.Stat(p); err != nil {
		Skip(t, "berth-os ISO not found at "+p+" (run `make iso`)")
	}
	return p
}

// NeedQEMUARM64 skips t unless qemu-system-aarch64, qemu-img and Debian's
// edk2 firmware for it (qemu-efi-aarch64) are installed.
func NeedQEMUARM64(t testing.TB) {
	t.Helper()
	NeedCommand(t, "qemu-system-aarch64", "qemu-img")
	if _, err := os.Stat("/usr/share/AAVMF/AAVMF_CODE.fd"); err != nil {
		Skip(t, "no edk2 firmware for arm64 guests (apt-get install qemu-efi-aarch64)")
	}
}

// NeedQEMU skips t unless qemu-system for this host and qemu-img exist.
func NeedQEMU(t testing.TB) {
	t.Helper()
	NeedCommand(t, "qemu-system-x86_64", "qemu-img")
}
