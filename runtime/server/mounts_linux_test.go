package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerCLIVolumes runs the real docker CLI's -v, --tmpfs and
// --read-only against the agent: a named volume outlives its container,
// a machine folder is bound read-only or read-write, a tmpfs is mounted.
func TestDockerCLIVolumes(t *testing.T) {
	a := startAgent(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from the machine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		want     string
		wantCode int
	}{
		{"write a named volume", []string{"run", "--rm", "-v", "vol1:/data", "busybox", "sh", "-c", "echo kept > /data/f"}, "", 0},
		{"named volume outlives its container", []string{"run", "--rm", "-v", "vol1:/data", "busybox", "cat", "/data/f"}, "kept\n", 0},
		{"bind read-only reads", []string{"run", "--rm", "-v", dir + ":/m:ro", "busybox", "cat", "/m/in"}, "from the machine\n", 0},
		{"bind read-only refuses writes", []string{"run", "--rm", "-v", dir + ":/m:ro", "busybox", "sh", "-c", "echo x > /m/out"}, "", 1},
		{"bind read-write writes", []string{"run", "--rm", "-v", dir + ":/m", "busybox", "sh", "-c", "echo back > /m/out"}, "", 0},
		{"tmpfs", []string{"run", "--rm", "--tmpfs", "/scratch", "busybox", "sh", "-c", "grep ' /scratch ' /proc/mounts | cut -d' ' -f3"}, "tmpfs\n", 0},
		{"read-only root refuses writes", []string{"run", "--rm", "--read-only", "busybox", "touch", "/x"}, "", 1},
		{"read-only root keeps tmpfs writable", []string{"run", "--rm", "--read-only", "--tmpfs", "/t", "busybox", "sh", "-c", "echo ok > /t/f && cat /t/f"}, "ok\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := docker(t, a.sock, "", tc.args...)
			if out != tc.want || code != tc.wantCode {
				t.Errorf("docker %s = %q (exit %d), want %q (exit %d); stderr %q", strings.Join(tc.args, " "), out, code, tc.want, tc.wantCode, errOut)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(b) != "back\n" {
		t.Errorf("the machine folder holds %q, %v; want what the container wrote", b, err)
	}
}
