//go:build !windows

package qemu

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFailedStartKeepsPidfileOfUnkilledQEMU: when a launch fails and the
// QEMU it left cannot be killed (the kill fails, or the process does not
// end), Start says so and keeps the pidfile, so `berth kill` and the next
// start still find that process.
func TestFailedStartKeepsPidfileOfUnkilledQEMU(t *testing.T) {
	for _, tt := range []struct {
		name string
		kill func(pid int) error
		want string
	}{
		{"kill fails", func(int) error { return syscall.EPERM }, "kill the qemu process"},
		{"process does not end", func(int) error { return nil }, "did not end"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDriver(t, "dev")
			for _, f := range []string{BootFile, SeedFile, DiskFile} {
				os.WriteFile(d.path(f), []byte("x"), 0o600)
			}
			d.Accel = "tcg"
			var stray *exec.Cmd
			d.sys = &fakeRunner{fn: func(args []string) ([]byte, error) {
				// A process that names the pidfile, as QEMU's command
				// line does, left behind by a launch that then failed.
				stray = exec.Command("sh", "-c", "sleep 60", d.path(PIDFile))
				if err := stray.Start(); err != nil {
					t.Fatal(err)
				}
				waitCmdline(t, stray.Process.Pid, d.path(PIDFile))
				os.WriteFile(d.path(PIDFile), []byte(itoa(stray.Process.Pid)+"\n"), 0o600)
				return nil, &RunError{Program: "qemu", Err: errors.New("exit status 1"), Stderr: "qemu-system-x86_64: something failed"}
			}}
			t.Cleanup(func() {
				if stray != nil {
					stray.Process.Kill()
					stray.Wait()
				}
			})
			killPID, strayWait = tt.kill, 300*time.Millisecond
			t.Cleanup(func() { killPID, strayWait = killProcess, 5*time.Second })
			err := d.Start(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "something failed") {
				t.Errorf("Start = %v, want the launch error and %q", err, tt.want)
			}
			if _, err := os.Stat(d.path(PIDFile)); err != nil {
				t.Errorf("the pidfile of a QEMU still running was removed: %v", err)
			}
			if pid := d.runningPID(); stray == nil || pid != stray.Process.Pid {
				t.Errorf("runningPID = %d after the failed start, want the stray QEMU", pid)
			}
		})
	}
}

// waitCmdline waits until pid's command line shows marker. Start returns
// once the child's exec is past its point of no return, but the kernel
// sets up the new command line a moment later: a read in between finds
// it empty (seen on a loaded CI host), which processIsOurs takes for
// another program. QEMU writes its pidfile long after that moment.
func waitCmdline(t *testing.T, pid int, marker string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if b, err := os.ReadFile("/proc/" + itoa(pid) + "/cmdline"); err != nil || bytes.Contains(b, []byte(marker)) {
			return // where /proc is missing, processIsOurs trusts the pid
		}
	}
	t.Fatalf("process %d never showed %s in its command line", pid, marker)
}
