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
	for _, args := range [][]string{createMediumArgs(d.path(diskFile), 50), createVMArgs("half", d.path(vmFolder))} {
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
	d.ISO, d.DiskMB = iso, 50
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
