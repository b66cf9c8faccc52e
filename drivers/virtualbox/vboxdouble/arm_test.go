package vboxdouble

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// TestARMVMs: createvm --platform-architecture arm makes a VM of the arm
// platform (7.1+ only), whose showvminfo has no x86 settings, and on
// which every x86-only modifyvm option ends VBoxManage as VirtualBox's
// does (SIGSEGV, ExitCrash in process) without saving the call's other
// options; the options of both platforms are taken.
func TestARMVMs(t *testing.T) {
	f := newFixture(t)
	base := t.TempDir()
	f.env["VBOXDOUBLE_VERSION"] = "7.0.12r159484"
	if _, errs, code := f.run("createvm", "--name", "old", "--basefolder", base, "--platform-architecture", "arm", "--register"); code != 2 || !strings.Contains(errs, "Unknown option: --platform-architecture") {
		t.Errorf("createvm --platform-architecture on 7.0: exit %d\n%s", code, errs)
	}
	delete(f.env, "VBOXDOUBLE_VERSION")
	if _, errs, code := f.run("createvm", "--name", "bad", "--basefolder", base, "--platform-architecture", "mips", "--register"); code != 2 || !strings.Contains(errs, "Invalid --platform-architecture argument 'mips'") {
		t.Errorf("createvm --platform-architecture mips: exit %d\n%s", code, errs)
	}

	f.must("createvm", "--name", "arm", "--basefolder", base, "--platform-architecture", "arm", "--register")
	f.must("modifyvm", "arm", "--firmware", "efi", "--chipset", "armv8virtual", "--ostype", "Linux_arm64", "--cpus", "2", "--memory", "1024",
		"--acpi", "on", "--graphicscontroller", "qemuramfb", "--usbxhci", "on", "--mouse", "usb", "--keyboard", "usb",
		"--nic1", "nat", "--nictype1", "virtio", "--natpf1", "ssh,tcp,127.0.0.1,50123,,22")
	f.must("storagectl", "arm", "--name", "VirtioSCSI", "--add", "virtio-scsi", "--hostiocache", "on")
	info := f.must("showvminfo", "arm", "--machinereadable")
	for _, want := range []string{`platformArchitecture="ARM"`, `chipset="armv8virtual"`, `firmware="EFI"`, `ostype="Other Linux (ARM 64-bit)"`,
		`graphicscontroller="qemuramfb"`, `storagecontrollertype0="VirtioSCSI"`, `nictype1="virtio"`} {
		if !strings.Contains(info, want+"\n") {
			t.Errorf("showvminfo of the arm VM lacks %s:\n%s", want, info)
		}
	}
	for _, x86 := range []string{"hpet=", "pae=", "hwvirtex=", "nestedpaging=", "vtxvpid="} {
		if strings.Contains(info, "\n"+x86) {
			t.Errorf("showvminfo of the arm VM prints the x86 setting %s", x86)
		}
	}

	for _, opt := range []string{"--pae", "--hpet", "--hwvirtex", "--nestedpaging", "--largepages", "--vtxvpid", "--x86-x2apic", "--apic"} {
		out, errs, code := f.run("modifyvm", "arm", "--memory", "2048", opt, "on")
		if code != ExitCrash || out != "" || errs != "" {
			t.Errorf("modifyvm arm %s on: exit %d, stdout %q, stderr %q; want a silent crash (%d)", opt, code, out, errs, ExitCrash)
		}
	}
	if info := f.must("showvminfo", "arm", "--machinereadable"); !strings.Contains(info, "\nmemory=1024\n") {
		t.Errorf("a crashed modifyvm saved its other options:\n%s", info)
	}
	if b, _ := os.ReadFile(filepath.Join(f.env["VBOXDOUBLE_HOME"], "crash.log")); !strings.Contains(string(b), "modifyvm --pae on the arm VM") {
		t.Errorf("crash.log = %q, want the reason", b)
	}
	// Options VBoxManage applies to settings both platforms have are taken.
	f.must("modifyvm", "arm", "--ioapic", "on", "--rtcuseutc", "on")

	// unregistervm --delete deletes the VM's UEFI variable store with its
	// settings (the double makes it at the first start).
	nvram := filepath.Join(base, "arm", "arm.nvram")
	if err := os.WriteFile(nvram, []byte("vars"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.must("unregistervm", "arm", "--delete")
	if _, err := os.Stat(nvram); !os.IsNotExist(err) {
		t.Errorf("unregistervm --delete left %s: %v", nvram, err)
	}

	// x86 VMs keep them all; an arm guest type makes an arm VM.
	f.must("createvm", "--name", "pc", "--basefolder", base, "--register")
	f.must("modifyvm", "pc", "--pae", "on", "--hpet", "on", "--hwvirtex", "on")
	if info := f.must("showvminfo", "pc", "--machinereadable"); !strings.Contains(info, `platformArchitecture="x86"`) || !strings.Contains(info, `chipset="piix3"`) {
		t.Errorf("showvminfo of the x86 VM:\n%s", info)
	}
	f.must("createvm", "--name", "byos", "--basefolder", base, "--ostype", "Debian12_arm64", "--register")
	if info := f.must("showvminfo", "byos", "--machinereadable"); !strings.Contains(info, `platformArchitecture="ARM"`) {
		t.Errorf("createvm --ostype Debian12_arm64 did not make an arm VM:\n%s", info)
	}
}

// TestARMVMCrashIsASignal: the built VBoxManage double dies of SIGSEGV
// for an x86-only option on an arm VM, as VirtualBox's does.
func TestARMVMCrashIsASignal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no signals: the double exits with STATUS_ACCESS_VIOLATION there")
	}
	testenv.NeedCommand(t, "go")
	bin := filepath.Join(t.TempDir(), "VBoxManage")
	build := exec.Command("go", "build", "-o", bin, "./vboxmanage")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the double: %v\n%s", err, out)
	}
	env := append(os.Environ(), "VBOXDOUBLE_HOME="+t.TempDir())
	run := func(args ...string) error {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		return cmd.Run()
	}
	if err := run("createvm", "--name", "arm", "--basefolder", t.TempDir(), "--platform-architecture", "arm", "--register"); err != nil {
		t.Fatal(err)
	}
	err := run("modifyvm", "arm", "--hpet", "on")
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("modifyvm arm --hpet on: %v; want a crash", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGSEGV {
		t.Errorf("modifyvm arm --hpet on ended with %v; want SIGSEGV", err)
	}
}
