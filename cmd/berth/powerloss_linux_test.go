package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/runtime/image"
	"github.com/berthvm/berth/runtime/server"
)

// powerLoss SIGKILLs the host agent of machine name, then powers name (running, its agent able to pull from
// regHost, which it reaches as guestReg) off hard, with QMP's quit, while
// a container with --restart always writes to a volume and an image is
// pulled. ls answers without the host agent; after `berth start` (a new
// host agent runs): the restart policies are applied (the
// writer runs again, a container without a policy reads exited), the
// volume reads, the pull done again succeeds; after a clean stop the data
// disk's file system checks clean (e2fsck -fn of a copy) and its image
// store verifies.
func powerLoss(t *testing.T, root, name, regHost, guestReg string) {
	started := time.Now()
	testenv.NeedCommand(t, "e2fsck", "qemu-img")
	// busybox and three layers of 10 MB of random bytes: a pull long
	// enough to be cut.
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	layers, err := bb.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		l, err := random.Layer(10<<20, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, l)
	}
	big, err := testimages.Build(runtime.GOARCH, layers, []string{"sh"}, testimages.PathEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.Push(context.Background(), regHost+"/big:latest", big, "", ""); err != nil {
		t.Fatal(err)
	}
	loadBusybox(t, root, name)
	mustBerth(t, root, "run", "-m", name, "-d", "--name", "writer", "--restart", "always", "-v", "data:/d", "busybox",
		"sh", "-c", "i=0; while true; do echo $i >> /d/log; i=$((i+1)); done")
	mustBerth(t, root, "run", "-m", name, "-d", "--name", "plain", "busybox", "sleep", "100000")
	testwait.For(t, 30*time.Second, "the writer to write", func() error {
		if out := berth(t, root, "", "exec", "-m", name, "writer", "wc", "-l", "/d/log").stdout; strings.HasPrefix(out, "0 ") || out == "" {
			return fmt.Errorf("/d/log: %q", out)
		}
		return nil
	})

	// The host agent SIGKILLed: ls still answers, from the agent.
	haPid := hostAgentPid(root, name)
	if !alive(haPid) {
		t.Fatalf("no host agent runs for %s (pid %d)", name, haPid)
	}
	killProcess(haPid)
	if r := berth(t, root, "", "ls", "--format", "{{.Name}} {{.State}} {{.Error}}"); r.code != 0 || r.stdout != name+" Running \n" {
		t.Errorf("ls after the host agent was SIGKILLed: exit %d, %q %s", r.code, r.stdout, r.stderr)
	}

	// The pull, in a berth process of its own, until a layer is in.
	pull := exec.Command(os.Args[0], "-s", root, "pull", "-m", name, guestReg+"/big")
	pull.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1")
	var pulled syncBuffer
	pull.Stdout, pull.Stderr = &pulled, &pulled
	if err := pull.Start(); err != nil {
		t.Fatal(err)
	}
	pullDone := make(chan error, 1)
	go func() { pullDone <- pull.Wait() }()
	testwait.Poll(context.Background(), 2*time.Minute, func() error {
		if out := pulled.String(); !strings.Contains(out, "Download complete") && !strings.Contains(out, "Pull complete") {
			return fmt.Errorf("pull printed %q", out)
		}
		return nil
	})
	pid := qemuPID(root, name)
	qmpQuit(t, filepath.Join(root, "machines", name, "qmp.sock"))
	waitDead(t, pid)
	select {
	case <-pullDone:
	case <-time.After(time.Minute):
		pull.Process.Kill()
		t.Errorf("the pull did not end within a minute of the power loss: %s", pulled.String())
	}
	t.Logf("pull at the power loss: %s", lastLine(pulled.String()))
	wantStatus(t, root, name, "Stopped")

	mustBerth(t, root, "start", name)
	testwait.For(t, 20*time.Second, "a new host agent after start", func() error {
		if pid := hostAgentPid(root, name); pid == haPid || !alive(pid) {
			log, _ := os.ReadFile(filepath.Join(root, "machines", name, hostagent.LogFile))
			return fmt.Errorf("the host agent's status names pid %d (the one killed: %d); its log ends %q", pid, haPid, lastLine(string(log)))
		}
		return nil
	})
	var lost int64
	testwait.For(t, time.Minute, "the restart policies applied", func() error {
		got := mustBerth(t, root, "ps", "-a", "-m", name, "--format", "{{.Names}} {{.State}}")
		if !strings.Contains(got, "writer running\n") || !strings.Contains(got, "plain exited\n") {
			return fmt.Errorf("ps -a: %q, want writer running and plain exited", got)
		}
		return nil
	})
	if out := berth(t, root, "", "run", "-m", name, "--rm", "-v", "data:/d", "busybox", "sh", "-c", "tail -n 1 /d/log"); out.code != 0 || strings.TrimSpace(out.stdout) == "" {
		t.Errorf("the volume written at the power loss: exit %d, %q %s", out.code, out.stdout, out.stderr)
		lost++
	}
	if out := berth(t, root, "", "pull", "-m", name, guestReg+"/big"); out.code != 0 {
		t.Errorf("the pull cut by the power loss, done again: exit %d: %s", out.code, out.stderr)
		lost++
	}
	if out := berth(t, root, "", "run", "-m", name, "--rm", guestReg+"/big", "echo", "runs"); out.code != 0 || out.stdout != "runs\n" {
		t.Errorf("run the image pulled again: exit %d, %q %s", out.code, out.stdout, out.stderr)
		lost++
	}

	// The data disk, checked after a clean stop.
	mustBerth(t, root, "stop", name)
	if p := procsOf(filepath.Join(root, "machines", name)); len(p) > 0 {
		t.Errorf("after stop, processes of %s run: %q", name, p)
	}
	raw := filepath.Join(t.TempDir(), "disk.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", filepath.Join(root, "machines", name, "disk.qcow2"), raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	if out, err := exec.Command("e2fsck", "-fn", raw).CombinedOutput(); err != nil {
		t.Errorf("e2fsck -fn of the data disk after the power loss: %v\n%s", err, out)
		lost++
	} else {
		t.Logf("e2fsck -fn: %s", lastLine(string(out)))
	}
	lost += verifyDiskImages(t, raw)
	survived := int64(0)
	if !t.Failed() {
		survived = 1
	}
	reliability.Record(t, started, reliability.Row{
		Area: "fault", What: "QEMU machine powered off hard (QMP quit) while a container writes to a volume and an image is pulled", Runs: 1, Faults: 1, Survived: survived, Lost: lost,
		Notes: "host agent SIGKILLed before (ls still answers, start makes a new one); after start: --restart always container running again, one without a policy exited, the volume reads, the pull redone; after a clean stop: e2fsck -fn of the data disk clean, image store verified",
	})
}

// qmpQuit sends QMP's quit to the QEMU whose QMP socket is path: the VM
// ends at once, as at a power loss.
func qmpQuit(t *testing.T, path string) {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("QMP: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil { // the greeting
		t.Fatalf("QMP greeting: %v", err)
	}
	for _, cmd := range []string{"qmp_capabilities", "quit"} {
		if _, err := fmt.Fprintf(c, `{"execute":%q}`+"\n", cmd); err != nil {
			t.Fatalf("QMP %s: %v", cmd, err)
		}
		line, err := r.ReadString('\n')
		if err != nil && cmd != "quit" {
			t.Fatalf("QMP %s: %v", cmd, err)
		}
		if strings.Contains(line, `"error"`) {
			t.Fatalf("QMP %s: %s", cmd, line)
		}
	}
}

// verifyDiskImages mounts raw (a copy of a machine's data disk) and
// verifies the image store on it; it returns how many items are damaged.
func verifyDiskImages(t *testing.T, raw string) (lost int64) {
	t.Helper()
	testenv.NeedRoot(t)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop", raw, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount the data disk's copy: %v\n%s", err, out)
	}
	defer unix.Unmount(mnt, unix.MNT_DETACH)
	root := filepath.Join(mnt, strings.TrimPrefix(server.DefaultStateDir, "/var/lib/berth"), "images")
	s, err := image.Open(root, image.Options{})
	if err != nil {
		t.Errorf("open the image store of the data disk: %v", err)
		return 1
	}
	defer s.Close()
	if err := s.Verify(); err != nil {
		t.Errorf("image store after the power loss: %v", err)
		return int64(strings.Count(err.Error(), "\n") + 1)
	}
	t.Logf("image store verified: %d images", len(s.List()))
	return 0
}

func lastLine(s string) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return l[len(l)-1]
}
