package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/berthvm/berth/internal/reliability"
	"golang.org/x/sys/unix"
)

// TestLeakedFdAsWorkingDir (CVE-2024-21626): a working directory of
// /proc/self/fd/N, an fd the runtime might have leaked into the init,
// gives no way out of the container's root: either the start is refused
// or paths from there stay inside the container.
func TestLeakedFdAsWorkingDir(t *testing.T) {
	rt := newTestRuntime(t)
	marker := filepath.Join(t.TempDir(), "host-marker")
	if err := os.WriteFile(marker, []byte("host secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	up := strings.Repeat("../", 24)
	script := "cat " + up + strings.TrimPrefix(marker, "/") + " 2>/dev/null; readlink /proc/self/cwd; true"
	for fd := 3; fd <= 9; fd++ {
		o := sh(script)
		o.WorkingDir = "/proc/self/fd/" + itoa(fd)
		res := runContainer(t, rt, ImageConfig{}, o, nil)
		if res.startErr != nil {
			continue // refused: what runc does now
		}
		if strings.Contains(res.stdout, "host secret") || strings.Contains(res.stdout, "unreachable") {
			t.Errorf("working dir /proc/self/fd/%d reaches outside the container: %q", fd, res.stdout)
		}
	}
}

// TestMaskedPathsRaceWithDevNull (CVE-2025-31133): a /dev/null swapped for
// a symlink (here by the host, at once after the init makes it in a
// volume mounted on /dev) must not have /proc/sys/kernel/core_pattern
// bound writable over the masked /proc files: the start is refused, or
// the masked files read empty.
func TestMaskedPathsRaceWithDevNull(t *testing.T) {
	rt := newTestRuntime(t)
	dev := t.TempDir()
	os.Chmod(dev, 0o755)
	evil := filepath.Join(dev, ".evil")
	if err := os.Symlink("/proc/sys/kernel/core_pattern", evil); err != nil {
		t.Fatal(err)
	}
	in, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(in)
	if _, err := unix.InotifyAddWatch(in, dev, unix.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	swapped := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := unix.Read(in, buf)
			if err != nil || n <= 0 {
				swapped <- false
				return
			}
			for off := 0; off+unix.SizeofInotifyEvent <= n; {
				ev := (*unix.InotifyEvent)(unsafePointer(&buf[off]))
				name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+int(ev.Len)]), "\x00")
				off += unix.SizeofInotifyEvent + int(ev.Len)
				if name == "null" {
					swapped <- os.Rename(evil, filepath.Join(dev, "null")) == nil
					return
				}
			}
		}
	}()
	res := runContainer(t, rt, ImageConfig{}, sh("wc -c < /proc/kcore; wc -c < /proc/timer_list"), func(s *Spec) {
		s.Mounts = append(s.Mounts, Mount{Type: "bind", Source: dev, Target: "/dev"})
	})
	unix.Close(in) // ends the watcher if null was never made
	if !<-swapped {
		t.Logf("the init made no /dev/null in the volume (start: %v)", res.startErr)
	}
	t.Logf("start: %v; stdout %q", res.startErr, res.stdout)
	if res.startErr != nil {
		if !strings.Contains(res.startErr.Error(), "/dev/null") {
			t.Errorf("start refused with %v, want an error naming /dev/null", res.startErr)
		}
		return
	}
	for _, l := range strings.Fields(res.stdout) {
		if l != "0" {
			t.Errorf("a masked /proc file reads %s bytes, want 0 (the null device): %q", l, res.stdout)
		}
	}
}

// TestContainerCannotReachTheKernel: a container cannot trigger sysrq,
// load a kernel module or mount a file system.
func TestContainerCannotReachTheKernel(t *testing.T) {
	started := time.Now()
	rt := newTestRuntime(t)
	tests := []struct{ name, script string }{
		{"sysrq-trigger", "echo h > /proc/sysrq-trigger"},
		{"load a module", "printf '\\177ELF' > /tmp/m.ko && insmod /tmp/m.ko"},
		{"mount", "mkdir -p /mnt/t && mount -t tmpfs none /mnt/t"},
		{"remount proc read-write", "mount -o remount,rw /proc/sys"},
		{"mknod a disk", "mknod /tmp/disk b 8 0 && head -c 1 /tmp/disk > /dev/null"},
	}
	defer reliability.Record(t, started, reliability.Row{Area: "security", What: "container escapes tried", Runs: int64(len(tests)) + 8,
		Notes: "CVE-2024-21626 fd 3-9 as working dir, CVE-2025-31133 /dev/null swapped via a volume on /dev (raced by inotify), sysrq-trigger, module load, mount, remount /proc/sys rw, mknod of a disk: all refused"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runContainer(t, rt, ImageConfig{}, sh(tc.script+" && echo DONE"), nil)
			if res.startErr != nil {
				t.Fatalf("start: %v", res.startErr)
			}
			if strings.Contains(res.stdout, "DONE") || res.state.ExitCode == 0 {
				t.Errorf("%s succeeded in a container (exit %d, stdout %q, stderr %q)", tc.name, res.state.ExitCode, res.stdout, res.stderr)
			}
		})
	}
}

func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
