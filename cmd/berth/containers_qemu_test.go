package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berthvm/berth/internal/testimages"
)

// TestContainersOnQEMU runs containers through the CLI on a berth-os
// machine in QEMU: run (greeting, exit code, capabilities, OOM kill under
// the machine's cgroup v2), run -d, ps, exec, logs, stop and rm, named
// volumes, Docker's seccomp profile.
func TestContainersOnQEMU(t *testing.T) {
	root := qemuMachine(t, "ctr")

	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	hello, err := testimages.Hello(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "images.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{"busybox:latest": bb, "hello:latest": hello}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustBerth(t, root, "load", "-m", "ctr", "-i", tarball)

	steps2 := []struct {
		args     []string
		want     string
		wantCode int
	}{
		{[]string{"run", "-m", "ctr", "--rm", "hello"}, testimages.Greeting, 0},
		{[]string{"run", "-m", "ctr", "--rm", "busybox", "sh", "-c", "grep CapEff /proc/self/status; exit 7"}, "CapEff:\t00000000a80425fb\n", 7},
		{[]string{"run", "-m", "ctr", "--rm", "--memory", "16m", "busybox", "sh", "-c", "exec dd if=/dev/zero of=/dev/null bs=64M count=1"}, "", 137},
		{[]string{"run", "-m", "ctr", "-d", "--name", "svc", "busybox", "sh", "-c", "echo up; exec sleep 1000"}, "", 0},
		{[]string{"exec", "-m", "ctr", "svc", "cat", "/proc/1/comm"}, "sleep\n", 0},
		{[]string{"logs", "-m", "ctr", "svc"}, "up\n", 0},
		{[]string{"ps", "-m", "ctr", "--format", "{{.Names}} {{.Command}}"}, "svc \"sh -c echo up; exec…\"\n", 0},
		{[]string{"container", "stop", "-m", "ctr", "-t", "1", "svc"}, "svc\n", 0},
		{[]string{"container", "rm", "-m", "ctr", "svc"}, "svc\n", 0},
		{[]string{"ps", "-a", "-q", "-m", "ctr"}, "", 0},
		// Named volumes outlive their containers.
		{[]string{"volume", "create", "-m", "ctr", "data"}, "data\n", 0},
		{[]string{"run", "-m", "ctr", "--rm", "-v", "data:/d", "busybox", "sh", "-c", "echo kept > /d/f"}, "", 0},
		{[]string{"run", "-m", "ctr", "--rm", "-v", "data:/d", "busybox", "cat", "/d/f"}, "kept\n", 0},
		{[]string{"volume", "ls", "-m", "ctr", "-q"}, "data\n", 0},
		{[]string{"volume", "rm", "-m", "ctr", "data"}, "data\n", 0},
		// Docker's seccomp profile refuses unshare(CLONE_NEWUSER), which
		// needs no capability, under the machine's kernel.
		{[]string{"run", "-m", "ctr", "--rm", "busybox", "unshare", "-U", "id", "-u"}, "", 1},
		{[]string{"run", "-m", "ctr", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "id", "-u"}, "65534\n", 0},
	}
	for _, s := range steps2 {
		r := berth(t, root, "", s.args...)
		got := r.stdout
		if s.args[1] == "-m" && s.args[0] == "run" && strings.Contains(strings.Join(s.args, " "), " -d ") {
			got = "" // the container id
		}
		if got != s.want || r.code != s.wantCode {
			t.Errorf("berth %s = %q (exit %d), want %q (exit %d); stderr %q", strings.Join(s.args, " "), r.stdout, r.code, s.want, s.wantCode, r.stderr)
		}
	}
}
