package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// The VirtualBox end-to-end tests run `berth` against the VBoxManage
// double, which boots the VMs in QEMU, or, with BERTH_VBOX_REAL=1 (`make
// test-virtualbox-real`), against the VirtualBox installed on this host.

// vboxEnv makes VBoxManage the double (unless BERTH_VBOX_REAL=1) and
// returns it, or nil for the real VirtualBox.
func vboxEnv(t *testing.T, extra ...string) *virtualboxtest.Double {
	t.Helper()
	testenv.NeedCommand(t, "ssh", "ssh-keygen")
	if os.Getenv("BERTH_VBOX_REAL") == "1" {
		testenv.NeedCommand(t, "VBoxManage")
		return nil
	}
	testenv.NeedQEMU(t)
	dbl := virtualboxtest.BuildDouble(t)
	// Small VMs on a shared host; no VT-x is needed by the double.
	dbl.Use(t, append([]string{"VBOXDOUBLE_MAX_MEMORY=1024"}, extra...)...)
	t.Setenv("VIRTUALBOX_NO_VTX_CHECK", "1")
	return dbl
}

// sshSteps fills the create steps that are not plugged in yet (the SSH key
// and the wait for SSH) with ssh-keygen and the ssh client.
func sshSteps(t *testing.T) {
	s := createSteps
	if s.MakeKey == nil {
		s.MakeKey = func(ctx context.Context, dir string) (string, error) {
			key := filepath.Join(dir, "id_ed25519")
			if out, err := exec.CommandContext(ctx, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "berth", "-f", key).CombinedOutput(); err != nil {
				return "", fmt.Errorf("ssh-keygen: %v: %s", err, out)
			}
			pub, err := os.ReadFile(key + ".pub")
			return strings.TrimSpace(string(pub)), err
		}
	}
	if s.WaitSSH == nil {
		s.WaitSSH = func(ctx context.Context, m *machine.Machine) error {
			err := testwait.Poll(ctx, 5*time.Minute, func() error {
				_, err := sshRun(ctx, m, "true")
				return err
			})
			if err != nil {
				return fmt.Errorf("wait for SSH: %w", err)
			}
			return nil
		}
	}
	withSteps(t, s)
}

// sshRun runs a command in m with the ssh client and the machine's key.
func sshRun(ctx context.Context, m *machine.Machine, cmd string) (string, error) {
	ep, err := m.Driver.SSHEndpoint(ctx)
	if err != nil {
		return "", err
	}
	c := exec.CommandContext(ctx, "ssh", "-i", filepath.Join(m.Dir, "id_ed25519"), "-p", fmt.Sprint(ep.Port),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR", ep.User+"@"+ep.Host, cmd)
	out, err := c.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ssh %s: %v: %s", cmd, err, out)
	}
	return string(out), nil
}

// inMachine runs cmd in the named machine: `berth ssh NAME -- cmd` when the
// CLI has it, else the ssh client with the machine's key.
func inMachine(t *testing.T, root, name, cmd string) string {
	t.Helper()
	for _, c := range newApp(nil, nil, nil).Commands {
		if c.Name != "ssh" {
			continue
		}
		// A machine just started may not answer yet.
		var out string
		testwait.For(t, 3*time.Minute, "berth ssh "+name+" -- "+cmd, func() error {
			r := berth(t, root, "", "ssh", name, "--", cmd) // the remote shell reads cmd, as with ssh
			if r.code != 0 {
				return fmt.Errorf("exit %d\n%s", r.code, r.stderr)
			}
			out = r.stdout
			return nil
		})
		return out
	}
	m, err := machine.NewStore(root).Load(name)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	testwait.For(t, 3*time.Minute, "ssh to machine "+name, func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err = sshRun(ctx, m, cmd)
		return err
	})
	return out
}

// vboxCalls counts the VBoxManage calls f makes (double only).
func vboxCalls(dbl *virtualboxtest.Double, f func()) int {
	if dbl == nil {
		f()
		return -1
	}
	before := len(dbl.Calls())
	f()
	return len(dbl.Calls()) - before
}

func TestVirtualBoxEndToEnd(t *testing.T) {
	dbl := vboxEnv(t)
	iso := testenv.ISO(t)
	sshSteps(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "dev") })

	start := time.Now()
	var out string
	createCalls := vboxCalls(dbl, func() {
		r := berth(t, root, "", "create", "-d", "virtualbox", "--virtualbox-iso", iso,
			"--virtualbox-memory", "512", "--virtualbox-disk-size", "2000", "dev")
		if r.code != 0 {
			t.Fatalf("berth create: exit %d\n%s", r.code, r.stderr)
		}
		out = r.stdout
		t.Logf("create steps:\n%s", r.stderr)
	})
	t.Logf("create-to-ready through VBoxManage: %v, %d VBoxManage calls", time.Since(start).Round(100*time.Millisecond), createCalls)
	if !strings.Contains(out, "Machine dev is ready") {
		t.Errorf("create printed %q", out)
	}
	var status string
	statusCalls := vboxCalls(dbl, func() { status = strings.TrimSpace(mustBerth(t, root, "status", "dev")) })
	if status != "Running" {
		t.Fatalf("status = %q, want Running", status)
	}
	var ls string
	lsCalls := vboxCalls(dbl, func() { ls = mustBerth(t, root, "ls", "--format", "{{.Name}} {{.DriverName}} {{.State}}") })
	if ls != "dev virtualbox Running\n" {
		t.Errorf("ls = %q", ls)
	}
	t.Logf("VBoxManage calls: create %d, status %d, ls %d (one machine)", createCalls, statusCalls, lsCalls)
	if dbl != nil && (statusCalls != 1 || lsCalls != 1) {
		t.Errorf("status made %d and ls %d VBoxManage calls; want 1 each (one showvminfo)", statusCalls, lsCalls)
	}

	uname := inMachine(t, root, "dev", "uname -a")
	if !strings.HasPrefix(uname, "Linux ") {
		t.Fatalf("uname -a = %q", uname)
	}
	t.Logf("uname -a: %s", strings.TrimSpace(uname))
	// VirtualBox boots the ISO itself (isolinux sets BOOT_IMAGE), with
	// every driver berth-os carries (no berth.modules list).
	if cmdline := inMachine(t, root, "dev", "cat /proc/cmdline"); !strings.Contains(cmdline, "BOOT_IMAGE=/boot/vmlinuz") || strings.Contains(cmdline, "berth.modules") {
		t.Errorf("the guest's /proc/cmdline = %q, want the ISO's isolinux boot", cmdline)
	}
	inMachine(t, root, "dev", "echo kept > /var/lib/berth/vbox-e2e && sync")

	// stop/start keep the data disk.
	stopStart := time.Now()
	mustBerth(t, root, "stop", "dev")
	t.Logf("graceful stop took %v", time.Since(stopStart).Round(100*time.Millisecond))
	if got := strings.TrimSpace(mustBerth(t, root, "status", "dev")); got != "Stopped" {
		t.Fatalf("status after stop = %q", got)
	}
	mustBerth(t, root, "start", "dev")
	if got := inMachine(t, root, "dev", "cat /var/lib/berth/vbox-e2e"); got != "kept\n" {
		t.Errorf("after stop and start the data disk holds %q, want %q", got, "kept\n")
	}

	// rm unregisters and deletes everything.
	dir := filepath.Join(root, "machines", "dev")
	mustBerth(t, root, "rm", "-y", "dev")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("rm left %s: %v", dir, err)
	}
	vms, err := exec.Command("VBoxManage", "list", "vms").Output()
	if err != nil || strings.Contains(string(vms), `"dev" {`) {
		t.Errorf("after rm, VBoxManage list vms = %q, %v; want no dev", vms, err)
	}
}

// TestVirtualBoxParallelCreates creates four machines at once. The
// double refuses overlapping VBoxManage calls as VirtualBox's session
// locks do, so this passes only if berth serialises its calls.
func TestVirtualBoxParallelCreates(t *testing.T) {
	vboxEnv(t, "VBOXDOUBLE_STRICT_SESSIONS=1", "VBOXDOUBLE_DELAY=20ms")
	iso := testenv.ISO(t)
	root := t.TempDir()
	names := []string{"par1", "par2", "par3", "par4"}
	t.Cleanup(func() { berth(t, root, "", append([]string{"rm", "-y", "-f"}, names...)...) })
	var wg sync.WaitGroup
	results := make([]result, len(names))
	start := time.Now()
	for i, n := range names {
		wg.Add(1)
		// Each create is a berth process of its own, as when a user runs
		// three at once (this test binary as berth, waiting for SSH).
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-s", root, "create", "-q", "-d", "virtualbox", "--virtualbox-iso", iso,
				"--virtualbox-memory", "512", "--virtualbox-disk-size", "1000", n)
			cmd.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1", "BERTH_TEST_WAIT_SSH=1")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			results[i] = result{stderr: stderr.String()}
			if ee, ok := err.(*exec.ExitError); ok {
				results[i].code = ee.ExitCode()
			} else if err != nil {
				results[i] = result{code: -1, stderr: err.Error()}
			}
		}()
	}
	wg.Wait()
	t.Logf("four parallel creates took %v", time.Since(start).Round(100*time.Millisecond))
	var failed int64
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("create %s: exit %d\n%s", names[i], r.code, r.stderr)
			failed++
		}
	}
	ls := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}")
	if ls != "par1 Running\npar2 Running\npar3 Running\npar4 Running\n" {
		t.Errorf("ls = %q", ls)
	}
	mustBerth(t, root, append([]string{"rm", "-y"}, names...)...)
	reliability.Record(t, start, reliability.Row{
		Area: "concurrency", What: "4 creates of different VirtualBox machines at once (the VBoxManage double, strict sessions)", Runs: int64(len(names)), Lost: failed,
		Notes: "each create succeeded and waited for SSH; all four Running; rm of all",
	})
}
