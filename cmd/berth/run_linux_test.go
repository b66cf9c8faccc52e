package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/internal/version"
)

// registryAgent runs the real berth-agent on this host (as root) with a
// registry holding busybox and hello, and returns an API client for it
// and the registry's host.
func registryAgent(t *testing.T) (*client.Client, string) {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "go")
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	hello, err := testimages.Hello(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	for name, img := range map[string]v1.Image{"busybox": bb, "hello": hello} {
		if err := testimages.Push(ctx, reg.Host+"/"+name+":latest", img, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	dir, err := os.MkdirTemp("", "berth-cli-agent-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "agent.sock")
	var (
		agent *exec.Cmd
		logs  bytes.Buffer
	)
	startAgent := func(bin string) {
		// --bridge=false: the host's own network is not the test's to change.
		agent = exec.Command(bin, "serve", "--bridge=false", "--socket", sock, "--state-dir", filepath.Join(dir, "state"))
		agent.Stderr = &logs
		if err := agent.Start(); err != nil {
			t.Fatal(err)
		}
		testwait.Dial(t, 10*time.Second, "unix", sock) // the cleanup shows the agent's log
	}
	stopAgent := func() {
		agent.Process.Signal(unix.SIGTERM)
		agent.Wait()
	}
	// The agent of the CLI's version: no upgrade.
	startAgent(testenv.NeedAgent(t, version.Version))
	t.Cleanup(func() {
		stopAgent()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	// upgradeAgent replaces the running agent with a new build of it.
	upgradeAgent = func() {
		next := testenv.NeedAgent(t, "9.9.9-next")
		stopAgent()
		startAgent(next)
	}
	api, err := client.New(client.WithHost("unix://" + sock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true})
		if err == nil {
			for _, c := range res.Items {
				api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
			}
		}
		api.Close()
		os.RemoveAll(dir)
	})
	return api, reg.Host
}

// upgradeAgent is set by registryAgent: it stops the agent and starts a
// new build of it on the same state.
var upgradeAgent func()

// TestContainersOutliveAgentUpgrade: a running container keeps running
// while the agent is replaced by a new build, and the new agent finds it,
// its log and, once it exits, its exit code.
func TestContainersOutliveAgentUpgrade(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer
	err := runContainer(ctx, api, runOptions{Image: reg + "/busybox", Detach: true, Name: "keep",
		Args: []string{"sh", "-c", "echo before; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo after; exit 6"}}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("run -d: %v %s", err, errOut.String())
	}
	before, err := api.ContainerInspect(ctx, "keep", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upgradeAgent()
	after, err := api.ContainerInspect(ctx, "keep", client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !after.Container.State.Running || after.Container.State.Pid != before.Container.State.Pid {
		t.Fatalf("after the agent upgrade: running %v pid %d, want running pid %d", after.Container.State.Running, after.Container.State.Pid, before.Container.State.Pid)
	}
	out.Reset()
	if err := execInContainer(ctx, api, execOptions{Container: "keep", Args: []string{"touch", "/tmp/go"}}, nil, &out, &errOut); err != nil {
		t.Fatalf("exec after upgrade: %v", err)
	}
	var codes bytes.Buffer
	if err := waitContainers(ctx, api, []string{"keep"}, &codes); err != nil || codes.String() != "6\n" {
		t.Errorf("wait after upgrade: %q, %v; want 6", codes.String(), err)
	}
	out.Reset()
	if err := containerLogs(ctx, api, logsOptions{Container: "keep", Tail: "all"}, &out, &errOut); err != nil || out.String() != "before\nafter\n" {
		t.Errorf("logs across the upgrade: %q, %v", out.String(), err)
	}
}

func codeOf(err error) int {
	var st exitStatus
	if errors.As(err, &st) {
		return int(st)
	}
	if err != nil {
		return -1
	}
	return 0
}

func TestRunPsLogsExec(t *testing.T) {
	api, reg := registryAgent(t)
	ctx := context.Background()
	var out, errOut bytes.Buffer

	// hello is pulled first, like docker run does.
	err := runContainer(ctx, api, runOptions{Image: reg + "/hello", Remove: true}, nil, &out, &errOut)
	if err != nil || out.String() != testimages.Greeting {
		t.Fatalf("run hello: %v, out %q, stderr %q", err, out.String(), errOut.String())
	}
	if want := "Unable to find image '" + reg + "/hello:latest' locally\n"; !strings.HasPrefix(errOut.String(), want) || !strings.Contains(errOut.String(), "Status: Downloaded newer image") {
		t.Errorf("stderr %q, want it to start with %q and show the pull", errOut.String(), want)
	}

	bb := reg + "/busybox"
	tests := []struct {
		name     string
		opts     runOptions
		stdin    string
		want     string
		wantCode int
	}{
		{"exit code", runOptions{Args: []string{"sh", "-c", "echo out; exit 42"}}, "", "out\n", 42},
		{"stdin", runOptions{Interact: true, Args: []string{"sh", "-c", "tr a-z A-Z"}}, "shout\n", "SHOUT\n", 0},
		{"env, workdir, user, hostname", runOptions{Env: []string{"A=1"}, Workdir: "/w", User: "nobody", Hostname: "box",
			Args: []string{"sh", "-c", "echo $A $(pwd) $(id -u) $(hostname)"}}, "", "1 /w 65534 box\n", 0},
		{"entrypoint", runOptions{Entrypoint: ptr("echo"), Args: []string{"from", "entrypoint"}}, "", "from entrypoint\n", 0},
		{"not found", runOptions{Args: []string{"nosuch"}}, "", "", 127},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			tc.opts.Image, tc.opts.Remove = bb, true
			err := runContainer(ctx, api, tc.opts, strings.NewReader(tc.stdin), &out, &errOut)
			if out.String() != tc.want || codeOf(err) != tc.wantCode {
				t.Errorf("got %q exit %d (%v), want %q exit %d; stderr %q", out.String(), codeOf(err), err, tc.want, tc.wantCode, errOut.String())
			}
		})
	}

	out.Reset()
	if err := runContainer(ctx, api, runOptions{Image: bb, Detach: true, Name: "svc", Args: []string{"sh", "-c", "echo ready; exec sleep 1000"}}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(out.String())
	// Once it said ready, the shell execs sleep.
	testwait.For(t, 20*time.Second, "svc to run sleep", func() error {
		var comm bytes.Buffer
		if err := execInContainer(ctx, api, execOptions{Container: "svc", Args: []string{"cat", "/proc/1/comm"}}, nil, &comm, &errOut); err != nil {
			return err
		}
		if comm.String() != "sleep\n" {
			return fmt.Errorf("its PID 1 is %q", comm.String())
		}
		return nil
	})
	out.Reset()
	if err := listContainers(ctx, api, psOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "CONTAINER ID   IMAGE") || !strings.HasPrefix(lines[1], id[:12]) ||
		!strings.Contains(lines[1], `"sh -c 'echo ready; …"`) && !strings.Contains(lines[1], `"sh -c echo ready; e…"`) || !strings.HasSuffix(lines[1], "svc") {
		t.Errorf("ps:\n%s", out.String())
	}
	out.Reset()
	if err := containerLogs(ctx, api, logsOptions{Container: "svc", Tail: "all"}, &out, &errOut); err != nil || out.String() != "ready\n" {
		t.Errorf("logs: %q, %v", out.String(), err)
	}
	out.Reset()
	err = execInContainer(ctx, api, execOptions{Container: "svc", Args: []string{"sh", "-c", "cat /proc/1/comm; exit 3"}}, nil, &out, &errOut)
	if out.String() != "sleep\n" || codeOf(err) != 3 {
		t.Errorf("exec: %q exit %d", out.String(), codeOf(err))
	}
}

func ptr[T any](v T) *T { return &v }

// TestRunTTY drives `run -it` through a pseudo-terminal, as a user's
// terminal would.
func TestRunTTY(t *testing.T) {
	api, reg := registryAgent(t)
	master, slave := openTestPty(t)
	done := make(chan error, 1)
	go func() {
		done <- runContainer(context.Background(), api, runOptions{Image: reg + "/busybox", Remove: true, Interact: true, TTY: true,
			Args: []string{"sh", "-c", "stty size; read x; echo got-$x; exit 4"}}, slave, slave, slave)
	}()
	var seen bytes.Buffer
	buf := make([]byte, 1024)
	sent := false
	testwait.Poll(context.Background(), 30*time.Second, func() error {
		master.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _ := master.Read(buf)
		seen.Write(buf[:n])
		if !sent && strings.Contains(seen.String(), "24 80") {
			master.Write([]byte("hi\r"))
			sent = true
		}
		if !strings.Contains(seen.String(), "got-") {
			return errors.New("no answer yet")
		}
		return nil
	})
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("run -it did not end; terminal showed %q", seen.String())
	}
	if !strings.Contains(seen.String(), "24 80") || !strings.Contains(seen.String(), "got-hi") || codeOf(err) != 4 {
		t.Errorf("terminal showed %q, exit %d; want the size 24 80, got-hi and exit 4", seen.String(), codeOf(err))
	}
}

func openTestPty(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	unix.IoctlSetWinsize(mfd, unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 80})
	sfd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(mfd), unix.TIOCGPTPEER, uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if e != 0 {
		t.Fatal(e)
	}
	master, slave := os.NewFile(uintptr(mfd), "ptmx"), os.NewFile(sfd, "pty")
	if err := unix.SetNonblock(mfd, true); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}
