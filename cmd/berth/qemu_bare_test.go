package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// bareISO writes a file that QEMU attaches as a CD but that holds no OS:
// the VM runs and boots nothing. The lifecycle commands need no more.
func bareISO(t *testing.T) string {
	t.Helper()
	return testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "bare.iso"), "berth-os-v0.0.0")
}

// withSteps replaces the create steps for one test.
func withSteps(t *testing.T, s machine.Steps) {
	old := createSteps
	createSteps = s
	t.Cleanup(func() { createSteps = old })
}

// fixedKey is a MakeKey step that hands out a fixed public key.
func fixedKey(ctx context.Context, dir string) (string, error) {
	return "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN+yw8Yz+b1zBYfnp4yAVej3m+xHPGpk9Ga/Snohmp49 test", nil
}

// qemuPID returns the pid in a machine's qemu.pid, or 0.
func qemuPID(root, name string) int {
	b, err := os.ReadFile(filepath.Join(root, "machines", name, "qemu.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func alive(pid int) bool {
	if pid <= 0 || !processExists(pid) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err != nil || !strings.Contains(string(stat), ") Z ")
}

// killOnCleanup kills the machine's QEMU whatever the test did.
func killOnCleanup(t *testing.T, root, name string) {
	t.Cleanup(func() {
		// The host agent first: it writes in the machine folder, which
		// the test's temporary folder removal must find quiet.
		if err := hostagent.Stop(context.Background(), filepath.Join(root, "machines", name)); err != nil {
			t.Errorf("stop the host agent: %v", err)
		}
		if pid := qemuPID(root, name); alive(pid) {
			killProcess(pid)
		}
	})
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	testwait.Until(t, 10*time.Second, fmt.Sprintf("qemu %d to end", pid), func() bool { return !alive(pid) })
}

func TestQEMULifecycleCommandsBare(t *testing.T) {
	testenv.NeedQEMU(t)
	withSteps(t, machine.Steps{MakeKey: fixedKey})
	root := t.TempDir()
	killOnCleanup(t, root, "bare")
	out := mustBerth(t, root, "create", "-d", "qemu", "--qemu-iso", bareISO(t), "--qemu-accel", "tcg",
		"--qemu-cpus", "1", "--qemu-memory", "256", "--qemu-disk-size", "200", "bare")
	if !strings.Contains(out, "Machine bare is ready in") {
		t.Errorf("create printed %q", out)
	}
	status := func(want string) {
		t.Helper()
		if got := strings.TrimSpace(mustBerth(t, root, "status", "bare")); got != want {
			t.Fatalf("status = %q, want %q", got, want)
		}
	}
	status("Running")
	if got := mustBerth(t, root, "ip", "bare"); got != "127.0.0.1\n" {
		t.Errorf("ip = %q, want 127.0.0.1", got)
	}
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.State}}"); got != "bare Running\n" {
		t.Errorf("ls = %q", got)
	}
	if got := mustBerth(t, root, "start", "bare"); got != "Started bare\n" {
		t.Errorf("start of a running machine printed %q", got)
	}
	pid := qemuPID(root, "bare")
	if got := mustBerth(t, root, "kill", "bare"); got != "Killed bare\n" {
		t.Errorf("kill printed %q", got)
	}
	waitDead(t, pid)
	status("Stopped")
	mustBerth(t, root, "kill", "bare")
	mustBerth(t, root, "start", "bare")
	status("Running")

	// Killed from outside: Stopped, and start brings it back.
	pid = qemuPID(root, "bare")
	killProcess(pid)
	waitDead(t, pid)
	status("Stopped")
	mustBerth(t, root, "start", "bare")
	status("Running")

	// Several names: every failure is reported, the rest is done.
	r := berth(t, root, "", "kill", "nope", "bare")
	if r.code == 0 || !strings.Contains(r.stderr, `"nope"`) || !strings.Contains(r.stdout, "Killed bare") {
		t.Errorf("kill nope bare = exit %d, stdout %q, stderr %q; want bare killed and nope reported", r.code, r.stdout, r.stderr)
	}
	mustBerth(t, root, "start", "bare")
	pid = qemuPID(root, "bare")
	mustBerth(t, root, "rm", "-y", "bare")
	waitDead(t, pid)
	if _, err := os.Stat(filepath.Join(root, "machines", "bare")); !os.IsNotExist(err) {
		t.Errorf("rm left the machine folder: %v", err)
	}
}

func TestQEMUCreateErrors(t *testing.T) {
	testenv.NeedQEMU(t)
	withSteps(t, machine.Steps{MakeKey: fixedKey})
	root := t.TempDir()
	r := berth(t, root, "", "create", "-d", "qemu", "--qemu-iso", filepath.Join(t.TempDir(), "missing.iso"), "x")
	if r.code != exitPreCreate || !strings.Contains(r.stderr, "missing.iso") {
		t.Errorf("create with a missing ISO: exit %d, %q; want exit %d naming the file", r.code, r.stderr, exitPreCreate)
	}
	r = berth(t, root, "", "create", "-d", "qemu", "--qemu-binary", "qemu-system-nope", "x")
	if r.code != exitPreCreate || !strings.Contains(r.stderr, "qemu-system-nope not found") || !strings.Contains(r.stderr, "qemu-system-x86 qemu-utils") {
		t.Errorf("create without QEMU: exit %d, %q; want exit %d naming the packages", r.code, r.stderr, exitPreCreate)
	}
	r = berth(t, root, "", "create", "-d", "qemu", "--qemu-cpus", "0", "--qemu-accel", "warp", "x")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--qemu-cpus 0") || !strings.Contains(r.stderr, "--qemu-accel \"warp\"") {
		t.Errorf("create with bad flags: exit %d, %q; want exit %d naming both", r.code, r.stderr, exitUsage)
	}
	if names, _ := os.ReadDir(filepath.Join(root, "machines")); len(names) != 0 {
		t.Errorf("failed creates left %v", names)
	}
}
