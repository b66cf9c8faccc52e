package virtualbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
	"github.com/berthvm/berth/internal/testenv"
)

// TestBootISOSwapThroughTheDouble swaps the boot ISO of a VM made by
// Create, through the VBoxManage double as VirtualBox 6.1 and 7.1: the
// new ISO is attached to the DVD drive of SATA port 0 with storageattach
// under the other file name, the old one stays in the folder until commit
// or restore, and closemedium forgets the one that goes.
func TestBootISOSwapThroughTheDouble(t *testing.T) {
	testenv.NeedCommand(t, "qemu-img")
	for _, ver := range []string{"6.1.38r153438", "7.1.12r169651"} {
		t.Run(ver, func(t *testing.T) {
			isoDir := t.TempDir()
			oldISO := filepath.Join(isoDir, "old.iso")
			newISO := filepath.Join(isoDir, "new.iso")
			newerISO := filepath.Join(isoDir, "newer.iso")
			os.WriteFile(oldISO, []byte("old"), 0o600)
			os.WriteFile(newISO, []byte("new"), 0o600)
			os.WriteFile(newerISO, []byte("newer"), 0o600)
			dir := t.TempDir()
			d := New(drivers.Base{MachineName: "dev", Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey})
			d.ISO, d.DiskMB, d.NoVTXCheck = oldISO, 100, true
			d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": t.TempDir(), "VBOXDOUBLE_VERSION": ver}}
			ctx := context.Background()
			if err := d.Create(ctx); err != nil {
				t.Fatal(err)
			}
			// attached is the file in the DVD drive, as VirtualBox says.
			attached := func() string {
				t.Helper()
				info, err := d.info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if info.Media["SATA-1-0"] != d.path(diskFile) || info.Media["SATA-2-0"] != d.path(seedFile) {
					t.Errorf("the disk or the seed moved: %v", info.Media)
				}
				return info.Media["SATA-0-0"]
			}
			content := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
			exists := func(name string) bool { _, err := os.Stat(d.path(name)); return err == nil }

			if err := d.ReplaceBootISO(ctx, newISO); err != nil {
				t.Fatal(err)
			}
			if got := attached(); got != d.path(altISOFile) || d.BootISOPath() != got || content(got) != "new" || content(d.path(isoFile)) != "old" {
				t.Errorf("after replace: attached %s (%q), boot.iso %q", got, content(got), content(d.path(isoFile)))
			}
			if err := d.RestoreBootISO(ctx); err != nil {
				t.Fatal(err)
			}
			if got := attached(); got != d.path(isoFile) || d.BootISOPath() != got || content(got) != "old" || exists(altISOFile) || d.PreviousISOFile != "" {
				t.Errorf("after restore: attached %s (%q), boot.alt.iso left %v", got, content(got), exists(altISOFile))
			}

			// Replace twice, then commit: the newest stays, the first is kept
			// until commit deletes it.
			if err := d.ReplaceBootISO(ctx, newISO); err != nil {
				t.Fatal(err)
			}
			if err := d.ReplaceBootISO(ctx, newerISO); err != nil {
				t.Fatal(err)
			}
			if got := attached(); content(got) != "newer" || content(d.path(d.PreviousISOFile)) != "old" {
				t.Errorf("after two replaces: attached %q, kept %q", content(got), content(d.path(d.PreviousISOFile)))
			}
			if err := d.CommitBootISO(ctx); err != nil {
				t.Fatal(err)
			}
			if got := attached(); got != d.path(altISOFile) || content(got) != "newer" || exists(isoFile) || d.PreviousISOFile != "" {
				t.Errorf("after commit: attached %s (%q), boot.iso left %v", got, content(got), exists(isoFile))
			}
			// The next upgrade goes back to the first name.
			if err := d.ReplaceBootISO(ctx, newISO); err != nil {
				t.Fatal(err)
			}
			if err := d.CommitBootISO(ctx); err != nil {
				t.Fatal(err)
			}
			if got := attached(); got != d.path(isoFile) || content(got) != "new" || exists(altISOFile) {
				t.Errorf("after a second upgrade: attached %s (%q)", got, content(got))
			}
			if err := d.Remove(ctx); err != nil {
				t.Fatal(err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("Remove left %v", left)
			}
		})
	}
}

// TestBootISOReplaceRunsTheseCommands: the command lines of a replace on
// a powered-off VM, and the refusal of a running or saved one, which
// runs nothing more than showvminfo.
func TestBootISOReplaceRunsTheseCommands(t *testing.T) {
	iso := filepath.Join(t.TempDir(), "new.iso")
	os.WriteFile(iso, []byte("new"), 0o600)
	d, s := scripted(t)
	s.Steps = []virtualboxtest.Step{
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")),
		step([]string{"storageattach", "dev", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "dvddrive", "--medium", d.path("boot.alt.iso")}, virtualboxtest.Ok("")),
		// Commit runs while the VM runs the new ISO: the old one is
		// attached nowhere.
		step([]string{"closemedium", "dvd", d.path("boot.iso")}, virtualboxtest.Ok("")),
	}
	ctx := context.Background()
	if err := d.ReplaceBootISO(ctx, iso); err != nil {
		t.Fatal(err)
	}
	if err := d.CommitBootISO(ctx); err != nil {
		t.Fatal(err)
	}
	for _, state := range []string{"running", "saved"} {
		d, _ := scripted(t, step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\""+state+"\"\n")))
		err := d.ReplaceBootISO(ctx, iso)
		if err == nil || !strings.Contains(err.Error(), "not powered off: stop it first") {
			t.Errorf("ReplaceBootISO on a %s VM = %v", state, err)
		}
	}
}
