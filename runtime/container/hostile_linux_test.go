package container

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMountTargetsStayInRoot: an image whose /etc/hosts and /proc are
// symlinks pointing at host paths gets its mounts inside its own root.
func TestMountTargetsStayInRoot(t *testing.T) {
	rt := newTestRuntime(t)
	hostDir := t.TempDir()
	hostFile := filepath.Join(hostDir, "hosts-target")
	hostProc := filepath.Join(hostDir, "proc-target")
	if err := os.Mkdir(hostProc, 0o755); err != nil {
		t.Fatal(err)
	}
	layer := t.TempDir()
	os.MkdirAll(filepath.Join(layer, "etc"), 0o755)
	if err := os.Symlink(hostFile, filepath.Join(layer, "etc", "hosts")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostProc, filepath.Join(layer, "proc")); err != nil {
		t.Fatal(err)
	}
	res := runContainer(t, rt, ImageConfig{}, sh("cat /etc/hosts | head -1; cat /proc/1/comm"), func(s *Spec) {
		s.LowerDirs = []string{layer, busyboxRootfs(t)}
	})
	if res.startErr != nil {
		t.Fatalf("start: %v", res.startErr)
	}
	if !strings.HasPrefix(res.stdout, "127.0.0.1\tlocalhost\n") || !strings.HasSuffix(res.stdout, "cat\n") {
		t.Errorf("container's /etc/hosts: %q", res.stdout)
	}
	if _, err := os.Stat(hostFile); err == nil {
		t.Errorf("the host file %s was created through the image's symlink", hostFile)
	}
	if des, _ := os.ReadDir(hostProc); len(des) != 0 {
		t.Errorf("something was mounted on the host's %s", hostProc)
	}
}

// TestAgentBinarySealed: the processes that enter containers run from a
// sealed in-memory copy of the agent, which cannot be written
// (CVE-2019-5736), not from the agent's file.
func TestAgentBinarySealed(t *testing.T) {
	rt := newTestRuntime(t)
	id := startDetached(t, rt, "exec sleep 1000", nil)
	st := waitState(t, rt, id, "running with its monitor", func(st State) bool { return st.Status == StatusRunning && st.MonitorPid != 0 })
	exe := filepath.Join("/proc", itoa(st.MonitorPid), "exe")
	target, err := os.Readlink(exe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(target, "/memfd:berth-agent") {
		t.Errorf("monitor runs from %q, want the sealed memfd copy", target)
	}
	f, err := os.OpenFile(exe, os.O_WRONLY, 0)
	if err == nil {
		_, err = f.Write([]byte("x"))
		f.Close()
	}
	if err == nil {
		t.Error("writing to the monitor's executable succeeded")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCopyUpStaysInRoot: filling an empty volume from the image neither
// follows the image's symlinks out of its root (the target itself, or an
// entry under it) nor copies host files through them.
func TestCopyUpStaysInRoot(t *testing.T) {
	rt := newTestRuntime(t)
	hostDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(hostDir, "secret"), []byte("host\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	layer := t.TempDir()
	os.MkdirAll(filepath.Join(layer, "data"), 0o755)
	os.WriteFile(filepath.Join(layer, "data", "seed"), []byte("image\n"), 0o644)
	if err := os.Symlink(hostDir, filepath.Join(layer, "data", "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(hostDir, filepath.Join(layer, "linked")); err != nil {
		t.Fatal(err)
	}
	vol1, vol2 := t.TempDir(), t.TempDir()
	res := runContainer(t, rt, ImageConfig{}, sh("cat /data/seed; ls /linked | wc -l"), func(s *Spec) {
		s.LowerDirs = []string{layer, busyboxRootfs(t)}
		s.Mounts = []Mount{
			{Type: "bind", Source: vol1, Target: "/data", Name: "vol1"},
			{Type: "bind", Source: vol2, Target: "/linked", Name: "vol2"},
		}
	})
	if res.startErr != nil {
		t.Fatalf("start: %v", res.startErr)
	}
	if res.stdout != "image\n0\n" {
		t.Errorf("container saw %q, want the image's seed and an empty /linked", res.stdout)
	}
	if fi, err := os.Lstat(filepath.Join(vol1, "escape")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the image's symlink in the volume: %v, %v; want a symlink", fi, err)
	}
	if des, _ := os.ReadDir(vol2); len(des) != 0 {
		t.Errorf("the volume on a symlink out of the root got %d entries, want none", len(des))
	}
	if b, _ := os.ReadFile(filepath.Join(hostDir, "secret")); string(b) != "host\n" {
		t.Errorf("the host file now holds %q", b)
	}
}
