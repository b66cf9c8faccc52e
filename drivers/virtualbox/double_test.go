package virtualbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
	"github.com/berthvm/berth/internal/testenv"
)

// TestSequencesAcceptedByTheDouble runs create, forwards on a stopped VM
// and remove through the double as VirtualBox 5.2, 6.1 and 7.1: every
// command line the driver builds must be VBoxManage syntax of each.
func TestSequencesAcceptedByTheDouble(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	for _, ver := range []string{"5.2.8r121009", "6.1.38r153438", "7.1.12r169651"} {
		t.Run(ver, func(t *testing.T) {
			iso := filepath.Join(t.TempDir(), "berth-os.iso")
			os.WriteFile(iso, []byte("iso"), 0o600)
			dir, share := t.TempDir(), t.TempDir()
			d := New(drivers.Base{MachineName: "dev", Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey,
				Shares: []drivers.Share{{HostPath: share, GuestPath: "/src"}}})
			d.ISO, d.HostOnlyCIDR, d.DiskMB = iso, "192.168.59.1/24", 100
			d.Arch = ArchAMD64 // VirtualBox before 7.1 has x86 VMs only
			home := t.TempDir()
			d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": home, "VBOXDOUBLE_VERSION": ver}}
			ctx := context.Background()
			if err := d.Create(ctx); err != nil {
				t.Fatal(err)
			}
			info, err := d.info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.VMState != "poweroff" || info.CPUs != 1 || info.MemoryMB != 1024 || len(info.Media) != 3 || info.Forwards["ssh"] == "" ||
				len(info.SharedFolders) != 1 || info.SharedFolders["berth0"] != share {
				t.Errorf("VM after create: %+v", info)
			}
			f := drivers.Forward{Proto: "tcp", HostPort: 18080, GuestPort: 80}
			for _, step := range []func(context.Context, drivers.Forward) error{d.AddForward, d.AddForward, d.RemoveForward, d.RemoveForward} {
				if err := step(ctx, f); err != nil {
					t.Fatal(err)
				}
			}
			if err := d.moveSSHPort(ctx); err != nil {
				t.Fatal(err)
			}
			if st, err := d.State(ctx); err != nil || st != drivers.StateStopped {
				t.Errorf("State = %v, %v", st, err)
			}
			if err := d.Remove(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := d.State(ctx); !strings.Contains(errString(err), "does not exist") {
				t.Errorf("State after Remove: %v; want ErrMachineNotExist", err)
			}
			left, _ := os.ReadDir(dir)
			if len(left) != 0 {
				t.Errorf("Remove left %v in the machine folder", left)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestRemoveHalfMadeThroughDouble removes a VM whose create stopped after
// createvm: the disk was made and registered but never attached.
func TestRemoveHalfMadeThroughDouble(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	dir := t.TempDir()
	d := New(drivers.Base{MachineName: "half", Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey})
	d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": t.TempDir()}}
	ctx := context.Background()
	for _, args := range [][]string{createMediumArgs(d.path(diskFile), 50), createVMArgs("half", d.path(vmFolder), ArchAMD64)} {
		if _, err := d.vbox().Run(ctx, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := d.vbox().Run(ctx, "closemedium", "disk", d.path(diskFile))
	if err == nil {
		t.Errorf("the disk is still registered after Remove (closemedium said %q)", out)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Remove left %v", left)
	}
}

// TestStartWithoutVTxThroughDouble: a host without VT-x fails startvm; the
// driver explains it from the VM's VBox.log with the remedy.
func TestStartWithoutVTxThroughDouble(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	iso := filepath.Join(t.TempDir(), "berth-os.iso")
	os.WriteFile(iso, []byte("iso"), 0o600)
	d := New(drivers.Base{MachineName: "novtx", Dir: t.TempDir(), CacheDir: t.TempDir(), SSHPublicKey: testKey})
	d.ISO, d.DiskMB, d.Arch = iso, 50, ArchAMD64 // VT-x is x86's
	d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": t.TempDir(), "VBOXDOUBLE_NO_VTX": "1"}}
	ctx := context.Background()
	if err := d.Create(ctx); err != nil {
		t.Fatal(err)
	}
	err := d.Start(ctx)
	if !errors.Is(err, ErrNoHWVirt) || !strings.Contains(err.Error(), "VERR_VMX_NO_VMX") || !strings.Contains(err.Error(), "BIOS/UEFI") {
		t.Fatalf("Start = %v; want ErrNoHWVirt naming the log line and the remedy", err)
	}
	if err := d.Remove(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestARMSequenceAcceptedByTheDouble creates and removes an arm64 VM
// through the double as VirtualBox 7.1: the driver's arm command lines are
// VBoxManage syntax (none of the options the double crashes on), and the
// VM is on the arm platform with its media on virtio-scsi. VirtualBox 7.0
// is refused before anything is made.
func TestARMSequenceAcceptedByTheDouble(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	iso := filepath.Join(t.TempDir(), "berth-os.iso")
	os.WriteFile(iso, []byte("iso"), 0o600)
	dir := t.TempDir()
	home := t.TempDir()
	d := New(drivers.Base{MachineName: "arm", Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey})
	d.ISO, d.DiskMB = iso, 100
	if err := d.SetArch(ArchARM64); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": home, "VBOXDOUBLE_VERSION": "7.0.12r159484"}}
	if err := d.PreCreateCheck(ctx); err == nil || !strings.Contains(err.Error(), "install VirtualBox 7.1 or newer") {
		t.Errorf("PreCreateCheck of an arm64 VM on VirtualBox 7.0 = %v; want a refusal naming 7.1", err)
	}
	d.NICType = "Am79C973"
	d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": home}}
	if err := d.PreCreateCheck(ctx); err == nil || !strings.Contains(err.Error(), "--virtualbox-nic-type Am79C973") {
		t.Errorf("PreCreateCheck of an arm64 VM with a PCnet NIC = %v; want a refusal", err)
	}
	d.NICType = defaultNICType
	if err := d.PreCreateCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(home, "crash.log")); err == nil {
		t.Errorf("the double crashed on the driver's command lines: %s", b)
	}
	out, err := d.vbox().Run(ctx, showVMInfoArgs("arm")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`platformArchitecture="ARM"`, `chipset="armv8virtual"`, `firmware="EFI"`, `storagecontrollertype0="VirtioSCSI"`} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("showvminfo lacks %s:\n%s", want, out)
		}
	}
	if info := parseMachineReadable(out); len(info.Media) != 3 || info.Forwards["ssh"] == "" {
		t.Errorf("VM after create: %+v", info)
	}
	if err := d.Remove(ctx); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("Remove left %v", left)
	}
}
