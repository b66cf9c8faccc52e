package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"
)

// probeTimeout bounds the test boot that decides whether a hypervisor
// accelerator works. A working one finishes in well under a second; a
// broken one (a nested /dev/kvm that exists but never runs guest code)
// hangs until killed.
const probeTimeout = 5 * time.Second

// probeExit is the exit status QEMU reports when the probe's boot sector
// writes 0x21 to the isa-debug-exit port: (0x21 << 1) | 1.
const probeExit = 0x43

// probeSector is a BIOS boot sector: mov al,0x21; out 0xf4,al; hlt; jmp
// back to hlt. It proves that the guest really runs code.
var probeSector = func() []byte {
	b := make([]byte, 512)
	copy(b, []byte{0xb0, 0x21, 0xe6, 0xf4, 0xf4, 0xeb, 0xfd})
	b[510], b[511] = 0x55, 0xaa
	return b
}()

// probeARM64 is a raw arm64 program QEMU's virt machine runs as a -kernel:
// PSCI SYSTEM_OFF through the hypervisor call (movz w0,#0x8; movk w0,
// #0x8400,lsl #16; hvc #0; b .), which makes QEMU exit with status 0. A
// guest that never runs leaves QEMU hanging until the probe's timeout.
var probeARM64 = []byte{
	0x00, 0x01, 0x80, 0x52,
	0x00, 0x80, 0xb0, 0x72,
	0x02, 0x00, 0x00, 0xd4,
	0x00, 0x00, 0x00, 0x14,
}

// hostAccel is the hypervisor accelerator to try on this host for a guest
// of arch, or "" when there is none.
func hostAccel(goos, goarch, arch string) string {
	if goarch != arch {
		return "" // a guest of another CPU architecture needs emulation
	}
	switch goos {
	case "linux":
		return "kvm"
	case "darwin":
		return "hvf"
	case "windows":
		return "whpx"
	}
	return ""
}

// resolveAccel turns "auto" into the host's hypervisor when a test boot
// with it works, else "tcg". Other values are returned as they are.
func resolveAccel(ctx context.Context, sys runner, requested, arch string) string {
	if requested != "auto" {
		return requested
	}
	cand := hostAccel(runtime.GOOS, runtime.GOARCH, arch)
	if cand == "" || probeAccel(ctx, sys, cand, arch, probeTimeout) != nil {
		return "tcg"
	}
	return cand
}

// probeArgs is the command line of the test boot of accel with the boot
// sector in image. With a hypervisor it asks for the CPU model machines
// get (-cpu host): a nested KVM can run the default model and yet
// fail to set up the host's ("failed to set MSR 0x10a").
func probeArgs(accel, image string) []string {
	args := []string{"-accel", accel, "-machine", "pc"}
	if accel != "tcg" {
		args = append(args, "-cpu", "host")
	}
	return append(args, "-m", "16",
		"-nodefaults", "-no-user-config", "-display", "none",
		"-drive", "file="+esc(image)+",format=raw,if=ide",
		"-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
	)
}

// probeArgsARM64 is the command line of the arm64 test boot: the program
// in image as the virt machine's kernel, with the host's CPU model.
func probeArgsARM64(accel, image string) []string {
	cpu := "host"
	if accel == "tcg" {
		cpu = "max"
	}
	return []string{"-accel", accel, "-machine", "virt", "-cpu", cpu, "-m", "64",
		"-nodefaults", "-no-user-config", "-display", "none",
		"-kernel", image,
	}
}

// probeAccel boots a one-sector guest with accel and reports whether it
// ran to its exit within timeout.
func probeAccel(ctx context.Context, sys runner, accel, arch string, timeout time.Duration) error {
	f, err := os.CreateTemp("", "berth-accel-probe-*.img")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	image, args := probeSector, probeArgs
	if arch == ArchARM64 {
		image, args = probeARM64, probeArgsARM64
	}
	_, werr := f.Write(image)
	if err := errors.Join(werr, f.Close()); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err = sys.Run(ctx, args(accel, f.Name())...)
	if arch == ArchARM64 {
		if err != nil {
			return fmt.Errorf("probe %s: %w", accel, err)
		}
		return nil
	}
	var re *RunError
	if errors.As(err, &re) && re.ExitCode() == probeExit {
		return nil
	}
	if err == nil {
		return fmt.Errorf("probe %s: the test boot exited without running the guest", accel)
	}
	return fmt.Errorf("probe %s: %w", accel, err)
}
