package vboxmanage_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
	"github.com/berthvm/berth/internal/testenv"
)

const notReady = "VBoxManage: error: The object is not ready\n"

func manager(t *testing.T, r vboxmanage.Runner) *vboxmanage.Manager {
	return &vboxmanage.Manager{Runner: r, LockPath: filepath.Join(t.TempDir(), "vbox.lock"), RetryDelay: time.Millisecond}
}

func TestRunRules(t *testing.T) {
	args := []string{"showvminfo", "dev", "--machinereadable"}
	tests := []struct {
		name    string
		steps   []virtualboxtest.Step
		want    string
		wantErr string
	}{
		{"success", []virtualboxtest.Step{{Args: args, Out: virtualboxtest.Ok("VMState=\"running\"\n")}}, "VMState=\"running\"\n", ""},
		{"error on stderr with exit 0 fails", []virtualboxtest.Step{{Args: args, Out: vboxmanage.Output{Stdout: "x", Stderr: "VBoxManage: error: Failed to create the VirtualBox object!\n"}}}, "", "exit 0: Failed to create the VirtualBox object!"},
		{"exit 1 fails", []virtualboxtest.Step{{Args: args, Out: virtualboxtest.Fail(1, "VBoxManage: error: Could not find a registered machine named 'dev'\nVBoxManage: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001)\n")}}, "", "Could not find a registered machine named 'dev'; Details"},
		{"warning alone is no failure", []virtualboxtest.Step{{Args: args, Out: vboxmanage.Output{Stdout: "ok", Stderr: "VBoxManage: warning: Interface \"vboxnet9\" doesn't seem to exist\n"}}}, "ok", ""},
		{"not ready is retried", []virtualboxtest.Step{
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Ok("done")},
		}, "done", ""},
		{"not ready gives up after 5 retries", []virtualboxtest.Step{
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
			{Args: args, Out: virtualboxtest.Fail(1, notReady)},
		}, "", "The object is not ready"},
		{"other errors are not retried", []virtualboxtest.Step{{Args: args, Out: virtualboxtest.Fail(1, "VBoxManage: error: The machine 'dev' is already locked for a session (or being unlocked)\n")}}, "", "already locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &virtualboxtest.Script{T: t, Steps: tt.steps}
			got, err := manager(t, s).Run(context.Background(), args...)
			s.Done()
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Run = %q, %v; want %q, nil", got, err, tt.want)
				}
				return
			}
			var ce *vboxmanage.CommandError
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &ce) {
				t.Fatalf("Run error = %v; want a CommandError containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestErrorPredicates(t *testing.T) {
	mk := func(stderr string) error {
		return &vboxmanage.CommandError{Args: []string{"x"}, Output: vboxmanage.Output{ExitCode: 1, Stderr: stderr}}
	}
	if !vboxmanage.IsNotFound(mk("VBoxManage: error: Could not find a registered machine named 'dev'\n")) {
		t.Error("IsNotFound(by name) = false")
	}
	if !vboxmanage.IsLocked(mk("VBoxManage: error: The machine 'dev' is already locked by a session (or being locked or unlocked)\n")) {
		t.Error("IsLocked(by a session) = false")
	}
	if vboxmanage.IsNotFound(errors.New("Could not find a registered machine")) {
		t.Error("IsNotFound on a plain error = true; want only CommandErrors")
	}
}

// overlapRunner fails the test when two runs overlap.
type overlapRunner struct {
	t       *testing.T
	running atomic.Int32
	max     atomic.Int32
}

func (r *overlapRunner) Run(context.Context, []string) (vboxmanage.Output, error) {
	n := r.running.Add(1)
	defer r.running.Add(-1)
	if n > r.max.Load() {
		r.max.Store(n)
	}
	time.Sleep(5 * time.Millisecond) // not a wait: a call that lasts, so that overlapping calls would show
	return vboxmanage.Output{}, nil
}

func TestRunSerialisesCallsHostWide(t *testing.T) {
	lock := filepath.Join(t.TempDir(), "vbox.lock")
	r := &overlapRunner{t: t}
	var wg sync.WaitGroup
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A Manager each, like separate berth processes sharing the lock file.
			m := &vboxmanage.Manager{Runner: r, LockPath: lock}
			if _, err := m.Run(context.Background(), "list", "vms"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := r.max.Load(); got != 1 {
		t.Fatalf("at most %d VBoxManage runs overlapped; want 1", got)
	}
}

func TestCandidates(t *testing.T) {
	env := map[string]string{"VBOX_MSI_INSTALL_PATH": `D:\VirtualBox\`}
	got := vboxmanage.Candidates("windows", func(k string) string { return env[k] })
	want := []string{`D:\VirtualBox\VBoxManage.exe`, `C:\Program Files\Oracle\VirtualBox\VBoxManage.exe`, "VBoxManage.exe (PATH)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Candidates(windows) = %q; want %q", got, want)
	}
	if got := vboxmanage.Candidates("darwin", func(string) string { return "" }); len(got) != 1 || got[0] != "VBoxManage (PATH)" {
		t.Errorf("Candidates(darwin) = %q", got)
	}
}

func TestMissingVBoxManageSaysHowToInstall(t *testing.T) {
	r := &vboxmanage.ExecRunner{Path: filepath.Join(t.TempDir(), "VBoxManage")}
	_, err := manager(t, r).Run(context.Background(), "--version")
	if !errors.Is(err, vboxmanage.ErrNotInstalled) || !strings.Contains(err.Error(), "https://www.virtualbox.org/wiki/Downloads") {
		t.Fatalf("error = %v; want ErrNotInstalled with the download address", err)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		out     string
		want    string
		atLeast bool
	}{
		{"5.0.14r105127\n", "5.0.14r105127", true},
		{"5.2.8r121009\n", "5.2.8r121009", true},
		{"6.1.38r153438\n", "6.1.38r153438", true},
		{"7.0.12r159484\n", "7.0.12r159484", true},
		{"7.0.10_Ubuntur158379\n", "7.0.10_Ubuntur158379", true},
		{"WARNING: The vboxdrv kernel module is not loaded. Either there is no module\n         available for the current kernel (5.4.0) or it failed to\n         load. Please recompile the kernel module and install it by\n\n6.1.38r153438\n", "6.1.38r153438", true},
		{"4.3.40r117288\n", "4.3.40r117288", false},
	}
	for _, tt := range tests {
		v, err := vboxmanage.ParseVersion(tt.out)
		if err != nil || v.Raw != tt.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %s", tt.out, v, err, tt.want)
			continue
		}
		err = vboxmanage.CheckVersion(v)
		if (err == nil) != tt.atLeast {
			t.Errorf("CheckVersion(%s) = %v; want ok=%v", v, err, tt.atLeast)
		}
		if err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckVersion error %q does not name the installed version", err)
		}
	}
	if _, err := vboxmanage.ParseVersion("Oracle VM VirtualBox Command Line Management Interface\n"); err == nil {
		t.Error("ParseVersion(garbage) = nil error")
	}
}

// TestCrashIsReportedAsSuch: a VBoxManage killed by a signal (VirtualBox
// 7.1's crashes on x86-only options for an arm VM) is an error that names
// the signal, not "exit -1".
func TestCrashIsReportedAsSuch(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no signals on Windows")
	}
	testenv.NeedCommand(t, "sh")
	m := &vboxmanage.Manager{Runner: &vboxmanage.ExecRunner{Path: "/bin/sh"}, LockPath: filepath.Join(t.TempDir(), "lock")}
	_, err := m.Run(context.Background(), "-c", "kill -SEGV $$")
	var ce *vboxmanage.CommandError
	if !errors.As(err, &ce) || ce.Signal != "segmentation fault" || !strings.Contains(err.Error(), "crashed (signal: segmentation fault)") {
		t.Errorf("Run of a crashing VBoxManage = %v; want a CommandError naming the signal", err)
	}
}
