package qemu

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

// kernelISO writes an ISO laid out like berth-os's (boot/vmlinuz,
// boot/initrd.img, isolinux/isolinux.cfg) with xorriso, as
// scripts/iso/build.sh makes it.
func kernelISO(t *testing.T) string {
	t.Helper()
	testenv.NeedCommand(t, "xorriso")
	dir := t.TempDir()
	for name, data := range map[string]string{
		"cd/boot/vmlinuz":          "KERNEL",
		"cd/boot/initrd.img":       "INITRD",
		"cd/isolinux/isolinux.cfg": "LABEL berth-os\n  APPEND console=ttyS0,115200n8 quiet\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	iso := filepath.Join(dir, "berth-os.iso")
	if out, err := exec.Command("xorriso", "-as", "mkisofs", "-quiet", "-o", iso, "-V", "berth-os-v0.9.0", "-J", "-R", filepath.Join(dir, "cd")).CombinedOutput(); err != nil {
		t.Fatalf("xorriso: %v\n%s", err, out)
	}
	return iso
}

// startArgs runs Start with a fake qemu-system and returns the command
// line it was given (the fake QEMU does not run, so Start fails after).
func startArgs(t *testing.T, d *Driver) []string {
	t.Helper()
	sys := &fakeRunner{}
	d.sys = sys
	d.Start(context.Background())
	if len(sys.calls) == 0 {
		t.Fatal("Start did not run qemu-system")
	}
	return sys.calls[0]
}

func argAfter(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// createdKernelDriver is a TCG machine "dev" created (with fake
// qemu-img and qemu-system) from an ISO laid out like berth-os's.
func createdKernelDriver(t *testing.T) *Driver {
	t.Helper()
	d := newTestDriver(t, "dev")
	d.ISOSource = kernelISO(t)
	d.AccelRequested = "tcg"
	d.img = &fakeRunner{fn: func(args []string) ([]byte, error) {
		return nil, os.WriteFile(args[len(args)-2], []byte("QFI\xfb"), 0o600)
	}}
	d.sys = &fakeRunner{}
	if err := d.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStartBootsTheKernel: QEMU boots the kernel and initramfs taken out
// of the machine's ISO into the cache, with the ISO's command line and the
// modules QEMU's hardware needs; the ISO stays attached.
func TestStartBootsTheKernel(t *testing.T) {
	d := createdKernelDriver(t)
	sum, _ := isocache.SHA256File(d.path(BootFile))
	if d.ISOSHA256 != sum {
		t.Errorf("after Create ISOSHA256 = %q, want boot.iso's %q", d.ISOSHA256, sum)
	}
	args := startArgs(t, d)
	kernel := argAfter(args, "-kernel")
	if want := filepath.Join(d.base.CacheDir, "boot", sum, "vmlinuz"); kernel != want {
		t.Errorf("-kernel %q, want %q", kernel, want)
	}
	if b, err := os.ReadFile(argAfter(args, "-initrd")); err != nil || string(b) != "INITRD" {
		t.Errorf("-initrd %q holds %q (%v), want the ISO's initramfs", argAfter(args, "-initrd"), b, err)
	}
	if got, want := argAfter(args, "-append"), "console=ttyS0,115200n8 quiet "+GuestModules+" acpi=noirq tsc=reliable"; got != want {
		t.Errorf("-append %q, want %q", got, want)
	}
	if slices.Contains(args, "-boot") {
		t.Errorf("a kernel boot still sets -boot: %q", args)
	}
	if got := argAfter(args, "-bios"); got != QBoot {
		t.Errorf("-bios %q, want %q", got, QBoot)
	}
	// The ISO and the seed are read-only virtio disks after the data disk
	// (vda): no IDE, no CD-ROM.
	drives := []string{}
	for i, a := range args {
		if a == "-drive" {
			drives = append(drives, args[i+1])
		}
	}
	want := []string{
		"file=" + d.path(DiskFile) + ",format=qcow2,if=virtio,discard=unmap",
		"file=" + d.path(BootFile) + ",format=raw,readonly=on,if=virtio",
		"file=" + d.path(SeedFile) + ",format=raw,readonly=on,if=virtio",
	}
	if !slices.Equal(drives, want) {
		t.Errorf("drives %q, want %q", drives, want)
	}

	t.Run("--qemu-boot iso", func(t *testing.T) {
		d.Boot = BootISO
		defer func() { d.Boot = "" }()
		args := startArgs(t, d)
		if slices.Contains(args, "-kernel") || slices.Contains(args, "-bios") || argAfter(args, "-boot") != "order=d" {
			t.Errorf("Boot=iso: %q, want -boot order=d, no -kernel and QEMU's own BIOS", args)
		}
		if !slices.Contains(args, "file="+d.path(BootFile)+",media=cdrom,readonly=on,if=ide,index=0") {
			t.Errorf("Boot=iso: the ISO is not attached as a CD: %q", args)
		}
	})

	// A machine made before berth booted kernels directly: its config has
	// neither ISOSHA256 nor Boot. It boots the kernel, and the ISO's
	// SHA-256 is recorded.
	t.Run("machine made before", func(t *testing.T) {
		var old map[string]any
		b, _ := json.Marshal(d)
		json.Unmarshal(b, &old)
		delete(old, "ISOSHA256")
		delete(old, "Boot")
		b, _ = json.Marshal(old)
		od := newTestDriver(t, "old")
		od.base.CacheDir = t.TempDir() // nothing taken out yet
		if err := json.Unmarshal(b, od); err != nil {
			t.Fatal(err)
		}
		if od.ISOSHA256 != "" || od.Boot != "" {
			t.Fatalf("the old config has ISOSHA256 %q, Boot %q", od.ISOSHA256, od.Boot)
		}
		for _, f := range []string{BootFile, SeedFile, DiskFile} {
			data, _ := os.ReadFile(d.path(f))
			os.WriteFile(od.path(f), data, 0o600)
		}
		args := startArgs(t, od)
		if !strings.HasPrefix(argAfter(args, "-kernel"), od.base.CacheDir) {
			t.Errorf("the old machine's QEMU: %q, want -kernel from the cache", args)
		}
		if od.ISOSHA256 != sum {
			t.Errorf("ISOSHA256 after the start = %q, want %q", od.ISOSHA256, sum)
		}
	})
}

// TestStartWithoutQBoot: a QEMU that has no qboot.rom refuses -bios; the
// start then boots the same kernel through SeaBIOS.
func TestStartWithoutQBoot(t *testing.T) {
	d := createdKernelDriver(t)
	sys := &fakeRunner{fn: func(args []string) ([]byte, error) {
		if slices.Contains(args, "-bios") {
			return nil, &RunError{Program: "qemu-system-x86_64", Err: errors.New("exit status 1"), Stderr: "qemu: could not load PC BIOS 'qboot.rom'"}
		}
		return nil, errors.New("the fake QEMU does not run") // Start fails after: enough
	}}
	d.sys = sys
	err := d.Start(context.Background())
	if len(sys.calls) != 2 {
		t.Fatalf("Start ran QEMU %d times (%v), want twice: with qboot, then without", len(sys.calls), err)
	}
	if argAfter(sys.calls[0], "-bios") != QBoot || slices.Contains(sys.calls[1], "-bios") || argAfter(sys.calls[1], "-kernel") == "" {
		t.Errorf("QEMU ran with %q, then %q: want qboot, then the same kernel without -bios", sys.calls[0], sys.calls[1])
	}
	if err == nil || strings.Contains(err.Error(), "PC BIOS") {
		t.Errorf("Start = %v, want the second launch's error only", err)
	}
}

// TestStartBootsAnISOWithoutKernelFromTheCD: an ISO that is not laid out
// like berth-os's boots through the firmware, as before.
func TestStartBootsAnISOWithoutKernelFromTheCD(t *testing.T) {
	d := newTestDriver(t, "dev")
	os.WriteFile(d.path(BootFile), []byte("not an iso"), 0o600)
	for _, f := range []string{SeedFile, DiskFile} {
		os.WriteFile(d.path(f), []byte("x"), 0o600)
	}
	d.Accel = "tcg"
	args := startArgs(t, d)
	if slices.Contains(args, "-kernel") || argAfter(args, "-boot") != "order=d" {
		t.Errorf("QEMU args %q, want the CD booted (-boot order=d, no -kernel)", args)
	}
}

// TestGuestCmdlineClock: under TCG the guest keeps time with the TSC;
// under a hypervisor the kernel picks its clock itself. PCI interrupts
// are routed without ACPI under every accelerator.
func TestGuestCmdlineClock(t *testing.T) {
	for accel, want := range map[string]bool{"tcg": true, "kvm": false, "hvf": false, "whpx": false} {
		if got := strings.Contains(guestCmdline(accel), "tsc=reliable"); got != want {
			t.Errorf("guestCmdline(%q) = %q: has tsc=reliable %v, want %v", accel, guestCmdline(accel), got, want)
		}
		if !strings.HasPrefix(guestCmdline(accel), GuestModules) {
			t.Errorf("guestCmdline(%q) = %q lacks the modules", accel, guestCmdline(accel))
		}
		if !strings.Contains(guestCmdline(accel), PCIIRQRouting) {
			t.Errorf("guestCmdline(%q) = %q lacks %s", accel, guestCmdline(accel), PCIIRQRouting)
		}
	}
}
