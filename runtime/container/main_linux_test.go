package container

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
)

func TestMain(m *testing.M) {
	RunHidden(os.Args)
	code := m.Run()
	if busybox.dir != "" {
		os.RemoveAll(busybox.dir)
	}
	os.Exit(code)
}

var busybox struct {
	once sync.Once
	dir  string
	err  error
}

// busyboxRootfs returns a root filesystem made from Debian's busybox-static
// with its applet links, an /etc/passwd and /etc/group with users root,
// nobody and app (1000, member of group extra 2000).
func busyboxRootfs(t testing.TB) string {
	t.Helper()
	testenv.NeedRoot(t)
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Skip(t, "busybox-static is not installed (make test installs it: scripts/deps.sh)")
	}
	busybox.once.Do(func() {
		busybox.dir, busybox.err = makeBusyboxRootfs()
	})
	if busybox.err != nil {
		t.Fatal(busybox.err)
	}
	return busybox.dir
}

func makeBusyboxRootfs() (string, error) {
	dir, err := os.MkdirTemp("", "berth-busybox-")
	if err != nil {
		return "", err
	}
	os.Chmod(dir, 0o755)
	for _, d := range []string{"bin", "etc", "tmp", "root", "home/app", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return "", err
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	out, err := exec.Command("cp", "/bin/busybox", filepath.Join(dir, "bin", "busybox")).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("copy busybox: %v: %s", err, out)
	}
	list, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return "", fmt.Errorf("list busybox applets: %w", err)
	}
	for _, a := range strings.Fields(string(list)) {
		if a != "busybox" {
			os.Symlink("busybox", filepath.Join(dir, "bin", a))
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n",
		"etc/group":  "root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func newTestRuntime(t testing.TB, opts ...Option) *Runtime {
	t.Helper()
	testenv.NeedRoot(t)
	dir := t.TempDir()
	rt, err := New(context.Background(), filepath.Join(dir, "containers"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range rt.List() {
			rt.Remove(context.Background(), c.Spec.ID, true)
		}
	})
	return rt
}

// result is what a test container printed and how it ended.
type result struct {
	stdout, stderr string
	state          State
	startErr       error
	id             string
}

// runContainer creates, attaches, starts and waits for a container of the
// busybox rootfs, the way `docker run` does.
func runContainer(t *testing.T, rt *Runtime, img ImageConfig, o Overrides, edit func(*Spec)) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}}
	if err := spec.ApplyConfig(img, o); err != nil {
		t.Fatalf("apply config: %v", err)
	}
	if edit != nil {
		edit(&spec)
	}
	info, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	id := info.Spec.ID
	type attached struct {
		out, errOut string
		err         error
	}
	// The attach is registered before the start, as docker run does, so
	// it sees all of the output.
	req, err := rt.RequestAttach(id, AttachOptions{Stdout: true, Stderr: true})
	if err != nil {
		t.Fatalf("attach: %v", err)
	}
	got := make(chan attached, 1)
	go func() {
		c, err := req.Conn(ctx)
		if err != nil {
			got <- attached{err: err}
			return
		}
		defer c.Close()
		if spec.Tty {
			b, err := io.ReadAll(c)
			got <- attached{out: string(b), err: err}
			return
		}
		o, e, err := demux(c)
		got <- attached{out: o, errOut: e, err: err}
	}()
	res := result{id: id}
	if err := rt.Start(ctx, id); err != nil {
		res.startErr = err
		res.state, _ = rt.state(id)
		return res
	}
	// Unlike docker run, the wait comes after the start: for a container
	// that already exited it returns the exit's state at once.
	st, err := rt.Wait(ctx, id, WaitNotRunning)
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	a := <-got
	if a.err != nil {
		t.Fatalf("attach: %v", a.err)
	}
	res.stdout, res.stderr, res.state = a.out, a.errOut, st
	return res
}

// demux splits Docker's multiplexed stream into stdout and stderr.
func demux(r io.Reader) (string, string, error) {
	var out, errOut strings.Builder
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if err == io.EOF {
				return out.String(), errOut.String(), nil
			}
			return out.String(), errOut.String(), err
		}
		n := binary.BigEndian.Uint32(hdr[4:])
		b := make([]byte, n)
		if _, err := io.ReadFull(r, b); err != nil {
			return out.String(), errOut.String(), err
		}
		switch hdr[0] {
		case StreamStdout:
			out.Write(b)
		case StreamStderr:
			errOut.Write(b)
		}
	}
}

func sh(script string) Overrides { return Overrides{Cmd: []string{"sh", "-c", script}} }

func TestRunHelloAndExitCode(t *testing.T) {
	rt := newTestRuntime(t)
	res := runContainer(t, rt, ImageConfig{}, sh("echo hello from berth; echo oops >&2; exit 3"), nil)
	if res.startErr != nil {
		t.Fatalf("start: %v", res.startErr)
	}
	if res.stdout != "hello from berth\n" || res.stderr != "oops\n" {
		t.Errorf("output = %q / %q, want %q / %q", res.stdout, res.stderr, "hello from berth\n", "oops\n")
	}
	if res.state.ExitCode != 3 || res.state.Status != StatusExited {
		t.Errorf("state = %+v, want exited with code 3", res.state)
	}
}
