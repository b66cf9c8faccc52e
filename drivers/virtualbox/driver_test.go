package virtualbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
)

const testKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHt0cmVhbGx5bm90YWtleWJ1dGxvb2tzbGlrZW9uZQ berth"

// scripted makes a driver for machine "dev" whose VBoxManage is s.
func scripted(t *testing.T, steps ...virtualboxtest.Step) (*Driver, *virtualboxtest.Script) {
	t.Helper()
	dir := t.TempDir()
	d := New(drivers.Base{MachineName: "dev", Dir: dir, CacheDir: t.TempDir(), SSHPublicKey: testKey})
	d.Arch = ArchAMD64 // the scripts are an x86 VM's, also on arm64 hosts
	s := &virtualboxtest.Script{T: t, Steps: steps}
	d.Manager.Runner = s
	d.Manager.RetryDelay = time.Millisecond
	t.Cleanup(s.Done)
	return d, s
}

func step(args []string, out vboxmanage.Output) virtualboxtest.Step {
	return virtualboxtest.Step{Args: args, Out: out}
}

const notFound = "VBoxManage: error: Could not find a registered machine named 'dev'\nVBoxManage: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001), component VirtualBoxWrap, interface IVirtualBox, callee nsISupports\n"

func TestCreateRunsTheProvenSequence(t *testing.T) {
	iso := filepath.Join(t.TempDir(), "berth-os.iso")
	os.WriteFile(iso, []byte("iso"), 0o600)
	d, s := scripted(t, virtualboxtest.Step{Out: virtualboxtest.Ok("7.1.12r169651\n")})
	d.ISO = iso
	for range 7 {
		s.Steps = append(s.Steps, virtualboxtest.Step{Out: virtualboxtest.Ok("")})
	}
	if err := d.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := d.base.Dir
	want := [][]string{
		{"--version"},
		createMediumArgs(m+"/disk.vdi", defaultDiskMB),
		createVMArgs("dev", m+"/vbox", ArchAMD64),
		modifyVMArgs("dev", vmSettings{CPUs: 1, MemoryMB: 1024, NICType: "82540EM", SSHPort: d.SSHPort, LocalhostReachable: true}),
		storageCtlArgs("dev", ArchAMD64),
		attachArgs("dev", ArchAMD64, 0, "dvddrive", m+"/boot.iso"),
		attachArgs("dev", ArchAMD64, 1, "hdd", m+"/disk.vdi"),
		attachArgs("dev", ArchAMD64, 2, "dvddrive", m+"/seed.iso"),
	}
	got := s.Calls()
	if len(got) != len(want) {
		t.Fatalf("create made %d calls; want %d", len(got), len(want))
	}
	for i := range want {
		if strings.Join(got[i], " ") != strings.Join(want[i], " ") {
			t.Errorf("call %d:\n got %q\nwant %q", i+1, got[i], want[i])
		}
	}
	if d.SSHPort == 0 {
		t.Error("no SSH port chosen")
	}
	for _, f := range []string{"boot.iso", "seed.iso"} {
		if _, err := os.Stat(filepath.Join(m, f)); err != nil {
			t.Errorf("create did not make %s: %v", f, err)
		}
	}
}

func TestCreateFailureNamesTheStep(t *testing.T) {
	iso := filepath.Join(t.TempDir(), "berth-os.iso")
	os.WriteFile(iso, []byte("iso"), 0o600)
	d, _ := scripted(t,
		virtualboxtest.Step{Out: virtualboxtest.Ok("6.1.38r153438\n")},
		virtualboxtest.Step{Out: virtualboxtest.Ok("Medium created. UUID: x\n")},
		virtualboxtest.Step{Out: virtualboxtest.Fail(1, "VBoxManage: error: Machine settings file '/x/dev/dev.vbox' already exists\n")},
	)
	d.ISO = iso
	err := d.Create(context.Background())
	if err == nil || !strings.Contains(err.Error(), "create the VM: VBoxManage createvm") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Create error = %v; want the step, the command and VirtualBox's message", err)
	}
}

func TestState(t *testing.T) {
	tests := []struct {
		out     vboxmanage.Output
		want    drivers.State
		wantErr error
	}{
		{virtualboxtest.Ok("name=\"dev\"\nVMState=\"running\"\n"), drivers.StateRunning, nil},
		{virtualboxtest.Ok("VMState=\"poweroff\"\n"), drivers.StateStopped, nil},
		{virtualboxtest.Fail(1, notFound), drivers.StateError, drivers.ErrMachineNotExist},
	}
	for _, tt := range tests {
		d, _ := scripted(t, step(showVMInfoArgs("dev"), tt.out))
		got, err := d.State(context.Background())
		if got != tt.want || !errors.Is(err, tt.wantErr) {
			t.Errorf("State = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
		}
	}
}

func TestStartIsOneCallAndIdempotent(t *testing.T) {
	d, s := scripted(t, step(startVMArgs("dev", "headless"), virtualboxtest.Ok("Waiting for VM \"dev\" to power on...\nVM \"dev\" has been successfully started.\n")))
	d.SSHPort = mustFreePort(t)
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Calls()); n != 1 {
		t.Errorf("Start made %d calls; want 1", n)
	}
	d2, _ := scripted(t,
		step(startVMArgs("dev", "headless"), virtualboxtest.Fail(1, "VBoxManage: error: The machine 'dev' is already locked by a session (or being locked or unlocked)\n")),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"running\"\n")),
	)
	d2.SSHPort = d.SSHPort
	if err := d2.Start(context.Background()); err != nil {
		t.Errorf("Start on a running VM = %v; want nil", err)
	}
}

func TestStartMovesATakenSSHPort(t *testing.T) {
	d, s := scripted(t,
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")),
		step(natDeleteArgs("dev", "ssh"), virtualboxtest.Ok("")),
		virtualboxtest.Step{Out: virtualboxtest.Ok("")},
		step(startVMArgs("dev", "headless"), virtualboxtest.Ok("")),
	)
	taken, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	d.SSHPort = taken.port
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d.SSHPort == taken.port {
		t.Error("SSH port not moved")
	}
	if got := strings.Join(s.Calls()[2], " "); got != "modifyvm dev --natpf1 ssh,tcp,127.0.0.1,"+strconv.Itoa(d.SSHPort)+",,22" {
		t.Errorf("new rule call = %s", got)
	}
}

func TestStartExplainsVTxFromTheLog(t *testing.T) {
	d, _ := scripted(t, step(startVMArgs("dev", "headless"), virtualboxtest.Fail(1, "VBoxManage: error: VT-x is not available (VERR_VMX_NO_VMX)\n")))
	d.SSHPort = mustFreePort(t)
	logs := filepath.Join(d.base.Dir, "vbox", "dev", "Logs")
	os.MkdirAll(logs, 0o700)
	os.WriteFile(filepath.Join(logs, "VBox.log"), []byte("00:00:00.5 Power up failed (vrc=VERR_VMX_NO_VMX, rc=NS_ERROR_FAILURE (0X80004005))\n"), 0o600)
	err := d.Start(context.Background())
	if !errors.Is(err, ErrNoHWVirt) || !strings.Contains(err.Error(), "BIOS/UEFI") {
		t.Fatalf("Start = %v; want ErrNoHWVirt with the remedy", err)
	}
}

func TestStopGracefulThenPowerOff(t *testing.T) {
	pollInterval = time.Millisecond
	running := virtualboxtest.Ok("VMState=\"running\"\n")
	d, s := scripted(t,
		step(showVMInfoArgs("dev"), running),
		step(controlVMArgs("dev", "acpipowerbutton"), virtualboxtest.Ok("")),
		step(showVMInfoArgs("dev"), running),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")),
	)
	if err := d.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Done()

	// A guest that ignores the power button is powered off after the timeout.
	d2, _ := scripted(t)
	d2.StopTimeout = 50 * time.Millisecond
	var poweredOff bool
	d2.Manager.Runner = runnerFunc(func(ctx context.Context, args []string) (vboxmanage.Output, error) {
		switch {
		case args[0] == "showvminfo" && poweredOff:
			return virtualboxtest.Ok("VMState=\"poweroff\"\n"), nil
		case args[0] == "showvminfo":
			return running, nil
		case args[0] == "controlvm" && args[2] == "poweroff":
			poweredOff = true
		}
		return virtualboxtest.Ok(""), nil
	})
	if err := d2.Stop(context.Background()); err != nil || !poweredOff {
		t.Fatalf("Stop = %v, powered off %v; want the power-off after the timeout", err, poweredOff)
	}

	d3, _ := scripted(t, step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")))
	if err := d3.Stop(context.Background()); err != nil {
		t.Errorf("Stop on a stopped VM = %v; want nil", err)
	}
}

type runnerFunc func(ctx context.Context, args []string) (vboxmanage.Output, error)

func (f runnerFunc) Run(ctx context.Context, args []string) (vboxmanage.Output, error) {
	return f(ctx, args)
}

func TestRemove(t *testing.T) {
	notRunning := virtualboxtest.Fail(1, "VBoxManage: error: Machine 'dev' is not currently running.\n")
	locked := virtualboxtest.Fail(1, "VBoxManage: error: The machine 'dev' is already locked for a session (or being unlocked)\n")
	d, _ := scripted(t,
		step(controlVMArgs("dev", "poweroff"), notRunning),
		step(unregisterArgs("dev"), locked),
		step(unregisterArgs("dev"), virtualboxtest.Ok("")),
	)
	os.WriteFile(d.path(seedFile), nil, 0o600)
	os.MkdirAll(d.path("vbox/dev/Logs"), 0o700)
	os.WriteFile(d.path("config.json"), []byte("{}"), 0o600)
	if err := d.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{seedFile, "vbox"} {
		if _, err := os.Stat(d.path(f)); !os.IsNotExist(err) {
			t.Errorf("%s still exists after Remove", f)
		}
	}
	if _, err := os.Stat(d.path("config.json")); err != nil {
		t.Errorf("Remove deleted a file that is not the driver's: %v", err)
	}

	// Half made: the disk exists, the VM was never registered.
	d2, _ := scripted(t,
		step(controlVMArgs("dev", "poweroff"), virtualboxtest.Fail(1, notFound)),
		virtualboxtest.Step{Out: virtualboxtest.Ok("")},
	)
	os.WriteFile(d2.path(diskFile), nil, 0o600)
	if err := d2.Remove(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Gone entirely: nothing to do, no error.
	d3, _ := scripted(t, step(controlVMArgs("dev", "poweroff"), virtualboxtest.Fail(1, notFound)))
	if err := d3.Remove(context.Background()); err != nil {
		t.Errorf("Remove of a gone VM = %v; want nil", err)
	}
}

func TestForwards(t *testing.T) {
	f := drivers.Forward{Proto: "tcp", HostPort: 8080, GuestPort: 80}
	rule := "berth-tcp-127.0.0.1-8080,tcp,127.0.0.1,8080,,80"
	d, _ := scripted(t,
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"running\"\nnic1=\"nat\"\nForwarding(0)=\"ssh,tcp,127.0.0.1,2222,,22\"\n")),
		step(controlVMArgs("dev", "natpf1", rule), virtualboxtest.Ok("")),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"running\"\nnic1=\"nat\"\nForwarding(0)=\""+rule+"\"\n")),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\nnic1=\"nat\"\nForwarding(0)=\"ssh,tcp,127.0.0.1,2222,,22\"\nForwarding(1)=\""+rule+"\"\nForwarding(2)=\"mine,udp,,53,,53\"\n")),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\nnic1=\"nat\"\nForwarding(0)=\""+rule+"\"\n")),
		step(natDeleteArgs("dev", "berth-tcp-127.0.0.1-8080"), virtualboxtest.Ok("")),
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")),
	)
	ctx := context.Background()
	if err := d.AddForward(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := d.AddForward(ctx, f); err != nil {
		t.Errorf("adding an existing forward = %v; want nil", err)
	}
	// A stopped VM keeps its rules; only berth's are listed.
	want := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: 8080, GuestPort: 80}
	if got, err := d.Forwards(ctx); err != nil || len(got) != 1 || got[0] != want {
		t.Errorf("Forwards = %+v, %v; want [%+v]", got, err, want)
	}
	if err := d.RemoveForward(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := d.RemoveForward(ctx, f); err != nil {
		t.Errorf("removing a missing forward = %v; want nil", err)
	}
}

func TestPreCreateCheck(t *testing.T) {
	d, _ := scripted(t, step(versionArgs(), virtualboxtest.Ok("4.3.40r117288\n")))
	d.NoVTXCheck = true
	d.ISO = filepath.Join(t.TempDir(), "nope.iso")
	err := d.PreCreateCheck(context.Background())
	if !errors.Is(err, drivers.ErrPreCreate) || !strings.Contains(err.Error(), "4.3.40r117288 is too old") || !strings.Contains(err.Error(), "nope.iso: not a readable file") {
		t.Errorf("PreCreateCheck = %v; want ErrPreCreate naming the old version and the missing ISO", err)
	}
}

type flagValues map[string]any

func (f flagValues) String(n string) string        { s, _ := f[n].(string); return s }
func (f flagValues) Int(n string) int              { i, _ := f[n].(int); return i }
func (f flagValues) Bool(n string) bool            { b, _ := f[n].(bool); return b }
func (f flagValues) StringSlice(n string) []string { return nil }
func (f flagValues) IsSet(n string) bool           { _, ok := f[n]; return ok }

func TestConfigureNamesEveryBadFlag(t *testing.T) {
	d := New(drivers.Base{MachineName: "dev"})
	err := configure(d, flagValues{
		"virtualbox-cpu-count": 0, "virtualbox-memory": 64, "virtualbox-disk-size": 20000,
		"virtualbox-nic-type": "rtl8139", "virtualbox-ui-type": "sdl", "virtualbox-hostonly-cidr": "192.168.99.1/24",
	})
	for _, want := range []string{"--virtualbox-cpu-count 0", "--virtualbox-memory 64", "--virtualbox-nic-type \"rtl8139\"", "--virtualbox-ui-type \"sdl\"", "--virtualbox-hostonly-cidr"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("configure error %v; want it to name %s", err, want)
		}
	}
	d = New(drivers.Base{MachineName: "dev"})
	if err := configure(d, flagValues{"virtualbox-cpu-count": 2, "virtualbox-memory": 512, "virtualbox-disk-size": 2000, "virtualbox-nic-type": "VIRTIO", "virtualbox-ui-type": "gui"}); err != nil || d.NICType != "virtio" {
		t.Errorf("configure(good) = %v, nic %q", err, d.NICType)
	}
	for _, f := range Flags {
		if f.EnvVar == "" || !strings.HasPrefix(f.EnvVar, "VIRTUALBOX_") {
			t.Errorf("flag %s has env var %q; want VIRTUALBOX_*", f.Name, f.EnvVar)
		}
	}
}

func TestStartPutsTheOldSSHRuleBackWhenStartvmFails(t *testing.T) {
	taken, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	d, s := scripted(t,
		step(showVMInfoArgs("dev"), virtualboxtest.Ok("VMState=\"poweroff\"\n")),
		step(natDeleteArgs("dev", "ssh"), virtualboxtest.Ok("")),
		virtualboxtest.Step{Out: virtualboxtest.Ok("")},
		step(startVMArgs("dev", "headless"), virtualboxtest.Fail(1, "VBoxManage: error: The VM session was aborted\n")),
		step(natDeleteArgs("dev", "ssh"), virtualboxtest.Ok("")),
		step(natAddArgs("dev", natRule("ssh", "tcp", "127.0.0.1", taken.port, 22)), virtualboxtest.Ok("")),
	)
	d.SSHPort = taken.port
	if err := d.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "session was aborted") {
		t.Fatalf("Start = %v; want startvm's error", err)
	}
	if d.SSHPort != taken.port {
		t.Errorf("SSHPort = %d after a failed start; want the stored %d back", d.SSHPort, taken.port)
	}
	if n := len(s.Calls()); n != 6 {
		t.Errorf("%d calls; want 6", n)
	}
}
