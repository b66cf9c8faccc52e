package image

import (
	"os"
	"path/filepath"
	goruntime "runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// compatArchs are the 32-bit architectures this machine's kernel runs
// besides its own: 386 on amd64 (the kernel's IA32 emulation, which
// berth-os's Debian kernel has), arm on an arm64 CPU with AArch32 at
// EL0 (not Apple's).
func compatArchs() []string {
	switch goruntime.GOARCH {
	case "amd64":
		return []string{"386"}
	case "arm64":
		if aarch32() {
			return []string{"arm"}
		}
	}
	return nil
}

// aarch32 reports whether the kernel runs 32-bit arm programs: it accepts
// the PER_LINUX32 personality only then. It is asked on a thread of its
// own, which ends with its goroutine.
var aarch32 = sync.OnceValue(func() bool {
	ok := make(chan bool)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread goes, personality and all
		const perLinux32 = 0x0008
		_, _, errno := unix.Syscall(unix.SYS_PERSONALITY, perLinux32, 0, 0)
		ok <- errno == 0
	}()
	return <-ok
})

// binfmtDir is where the kernel lists the interpreters it hands foreign
// programs to.
var binfmtDir = "/proc/sys/fs/binfmt_misc"

// qemuArchs maps qemu-user's binfmt entry names to architectures.
var qemuArchs = map[string]string{
	"qemu-x86_64": "amd64", "qemu-i386": "386", "qemu-aarch64": "arm64", "qemu-arm": "arm",
	"qemu-riscv64": "riscv64", "qemu-ppc64le": "ppc64le", "qemu-s390x": "s390x",
	"qemu-mips64el": "mips64le", "qemu-loongarch64": "loong64",
}

// emulatedArchs are the architectures whose programs binfmt_misc hands to
// an enabled qemu-user interpreter.
func emulatedArchs() []string {
	if st, err := os.ReadFile(filepath.Join(binfmtDir, "status")); err != nil || strings.TrimSpace(string(st)) != "enabled" {
		return nil
	}
	var out []string
	for name, arch := range qemuArchs {
		b, err := os.ReadFile(filepath.Join(binfmtDir, name))
		if err == nil && strings.HasPrefix(string(b), "enabled") {
			out = append(out, arch)
		}
	}
	sort.Strings(out)
	return out
}
