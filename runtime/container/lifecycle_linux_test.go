package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testwait"
)

// startDetached creates and starts a container running script, as `docker run -d`.
func startDetached(t testing.TB, rt *Runtime, script string, edit func(*Spec)) string {
	t.Helper()
	ctx := context.Background()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}}
	if err := spec.ApplyConfig(ImageConfig{}, sh(script)); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&spec)
	}
	info, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := rt.Start(ctx, info.Spec.ID); err != nil {
		t.Fatalf("start: %v", err)
	}
	return info.Spec.ID
}

func execOutput(t testing.TB, rt *Runtime, id string, spec ExecSpec) (string, int) {
	t.Helper()
	spec.AttachStdout, spec.AttachStderr = true, true
	xid, err := rt.ExecCreate(id, spec)
	if err != nil {
		t.Fatalf("exec create: %v", err)
	}
	var buf bytes.Buffer
	code, err := rt.ExecStart(context.Background(), xid, nil, &buf, nil)
	if err != nil {
		t.Fatalf("exec start: %v", err)
	}
	if spec.Tty {
		return buf.String(), code
	}
	out, errOut, _ := demux(&buf)
	return out + errOut, code
}

func TestExec(t *testing.T) {
	rt := newTestRuntime(t)
	id := startDetached(t, rt, "echo started; exec sleep 1000", func(s *Spec) { s.Env = append(s.Env, "FROMRUN=1") })
	// The shell execs sleep a moment after the start returns.
	waitPID1(t, rt, id, "sleep")
	tests := []struct {
		name     string
		spec     ExecSpec
		want     string
		wantCode int
	}{
		{"sees the container's processes and env", ExecSpec{Args: []string{"sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo $FROMRUN $X; hostname"}, Env: []string{"X=2"}},
			"sleep 1000 1 2\n" + id[:12] + "\n", 0},
		{"user and workdir", ExecSpec{Args: []string{"sh", "-c", "id -u; pwd"}, User: "app", WorkingDir: "/tmp"}, "1000\n/tmp\n", 0},
		{"caps", ExecSpec{Args: []string{"sh", "-c", "grep CapBnd /proc/self/status | tr -d '\\t'"}}, "CapBnd:00000000a80425fb\n", 0},
		{"exit code", ExecSpec{Args: []string{"sh", "-c", "exit 7"}}, "", 7},
		{"not found", ExecSpec{Args: []string{"nosuch"}}, "exec: \"nosuch\": executable file not found in $PATH\n", 127},
		{"tty", ExecSpec{Args: []string{"sh", "-c", "tty; echo $TERM"}, Tty: true}, "/dev/pts/0\r\nxterm\r\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, code := execOutput(t, rt, id, tc.spec)
			if got != tc.want || code != tc.wantCode {
				t.Errorf("got %q (exit %d), want %q (exit %d)", got, code, tc.want, tc.wantCode)
			}
		})
	}
}

// waitPID1 waits until the command of the container's PID 1 is comm.
func waitPID1(t *testing.T, rt *Runtime, id, comm string) {
	t.Helper()
	testwait.For(t, 10*time.Second, "the container's PID 1 to be "+comm, func() error {
		if out, _ := execOutput(t, rt, id, ExecSpec{Args: []string{"cat", "/proc/1/comm"}}); out != comm+"\n" {
			return fmt.Errorf("it is %q", out)
		}
		return nil
	})
}

// waitState waits until the container's state is what ok accepts and
// returns it.
func waitState(t *testing.T, rt *Runtime, id, what string, ok func(State) bool) State {
	t.Helper()
	var st State
	testwait.For(t, 30*time.Second, "the container to be "+what, func() error {
		if st, _ = rt.state(id); !ok(st) {
			return fmt.Errorf("it is %+v", st)
		}
		return nil
	})
	return st
}

// waitLogs waits until the container's logs hold each of want, as
// "stream:line\n" ("stdout:one\n").
func waitLogs(t *testing.T, rt *Runtime, id string, want ...string) {
	t.Helper()
	testwait.For(t, 10*time.Second, fmt.Sprintf("the logs to hold %q", want), func() error {
		var logs strings.Builder
		err := rt.Logs(context.Background(), id, LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(e LogEntry) error {
			logs.WriteString(e.Stream + ":" + e.Log)
			return nil
		})
		if err != nil {
			return err
		}
		for _, w := range want {
			if !strings.Contains(logs.String(), w) {
				return fmt.Errorf("they are %q", logs.String())
			}
		}
		return nil
	})
}

// cancelOnWrite cancels a context at the first write to it.
type cancelOnWrite struct{ cancel context.CancelFunc }

func (c cancelOnWrite) Write(p []byte) (int, error) { c.cancel(); return len(p), nil }

// TestExecContext: a ctx done before the start starts nothing; one done
// while the command runs kills it and what it left running, and ExecStart
// returns even though a child still held the command's output.
func TestExecContext(t *testing.T) {
	rt := newTestRuntime(t)
	id := startDetached(t, rt, "exec sleep 1000", nil)
	waitPID1(t, rt, id, "sleep")

	t.Run("done before the start", func(t *testing.T) {
		xid, err := rt.ExecCreate(id, ExecSpec{Args: []string{"true"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := rt.ExecStart(ctx, xid, nil, io.Discard, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("ExecStart with a cancelled ctx: %v, want %v", err, context.Canceled)
		}
		if x, _ := rt.ExecInspect(xid); x.Running || x.ExitCode != nil {
			t.Errorf("after a cancelled start: %+v, want not started", x)
		}
		if code, err := rt.ExecStart(context.Background(), xid, nil, io.Discard, nil); code != 0 || err != nil {
			t.Errorf("a later start: exit %d, %v; want exit 0", code, err)
		}
	})
	for _, tty := range []bool{false, true} {
		t.Run(fmt.Sprintf("done while it runs, tty=%v", tty), func(t *testing.T) {
			xid, err := rt.ExecCreate(id, ExecSpec{Args: []string{"sh", "-c", "sleep 999 & echo up; wait"}, Tty: tty, AttachStdout: true})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			type ended struct {
				code int
				err  error
			}
			done := make(chan ended, 1)
			go func() {
				code, err := rt.ExecStart(ctx, xid, nil, cancelOnWrite{cancel}, nil)
				done <- ended{code, err}
			}()
			var got ended
			select {
			case got = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("ExecStart still runs 20 s after its ctx was cancelled")
			}
			if got.code != 137 || !errors.Is(got.err, context.Canceled) {
				t.Errorf("ExecStart = %d, %v; want 137, %v", got.code, got.err, context.Canceled)
			}
			if x, _ := rt.ExecInspect(xid); x.Running || x.ExitCode == nil || *x.ExitCode != 137 {
				t.Errorf("ExecInspect after the cancel: %+v, want exited 137", x)
			}
			// The background sleep was in the command's process group.
			testwait.For(t, 10*time.Second, "the exec's background sleep to end", func() error {
				out, _ := execOutput(t, rt, id, ExecSpec{Args: []string{"sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"}})
				if strings.Contains(out, "sleep 999") {
					return fmt.Errorf("the container runs %q", out)
				}
				return nil
			})
		})
	}
}

func TestInteractiveStdinAndTTY(t *testing.T) {
	rt := newTestRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tty := range []bool{false, true} {
		spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, OpenStdin: true, StdinOnce: true}
		script := "read line; echo got:$line; tty >/dev/null && echo tty || echo notty"
		o := sh(script)
		o.Tty = tty
		if err := spec.ApplyConfig(ImageConfig{}, o); err != nil {
			t.Fatal(err)
		}
		info, err := rt.Create(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		// The attach is registered before the start, as docker run does.
		a, err := rt.RequestAttach(info.Spec.ID, AttachOptions{Stdin: true, Stdout: true, Stderr: true})
		if err != nil {
			t.Fatal(err)
		}
		conns := make(chan net.Conn, 1)
		go func() {
			c, err := a.Conn(ctx)
			if err != nil {
				t.Error(err)
			}
			conns <- c
		}()
		if err := rt.Start(ctx, info.Spec.ID); err != nil {
			t.Fatal(err)
		}
		c := <-conns
		if c == nil {
			return
		}
		c.Write([]byte("hello\n"))
		var out string
		if tty {
			b, _ := io.ReadAll(c)
			out = string(b)
		} else {
			c.(*net.UnixConn).CloseWrite()
			out, _, _ = demux(c)
		}
		c.Close()
		want := "got:hello\nnotty\n"
		if tty {
			want = "hello\r\ngot:hello\r\ntty\r\n" // the terminal echoes input
		}
		if out != want {
			t.Errorf("tty=%v: output %q, want %q", tty, out, want)
		}
	}
}

// TestLargeStdinBeforeStart: input sent on an attach while the container
// starts, more than the monitor keeps for it, all reaches the process
// (docker run -i < big-file over a fast link sent it before the process
// ran, and the monitor dropped what went beyond 1 MiB).
func TestLargeStdinBeforeStart(t *testing.T) {
	rt := newTestRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, OpenStdin: true, StdinOnce: true}
	if err := spec.ApplyConfig(ImageConfig{}, sh("wc -c")); err != nil {
		t.Fatal(err)
	}
	info, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rt.RequestAttach(info.Spec.ID, AttachOptions{Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	const size = 4<<20 + 12345 // beyond the 1 MiB kept
	outs := make(chan string, 1)
	go func() {
		c, err := a.Conn(ctx)
		if err != nil {
			t.Error(err)
			outs <- ""
			return
		}
		defer c.Close()
		// Written as soon as the stream is there: before the process runs.
		go func() {
			c.Write(make([]byte, size))
			c.(*net.UnixConn).CloseWrite()
		}()
		out, _, _ := demux(c)
		outs <- out
	}()
	if err := rt.Start(ctx, info.Spec.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(<-outs), fmt.Sprint(size); got != want {
		t.Errorf("wc -c of the input = %q, want %s", got, want)
	}
}

func TestStopKillRestartAndLogs(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := startDetached(t, rt, "trap 'echo bye; exit 5' TERM; echo one; echo two >&2; while true; do sleep 0.1; done", nil)
	waitLogs(t, rt, id, "stdout:one\n", "stderr:two\n") // the trap is set
	start := time.Now()
	if err := rt.Stop(ctx, id, 0, 10*time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st, _ := rt.state(id)
	if st.Status != StatusExited || st.ExitCode != 5 || time.Since(start) > 5*time.Second {
		t.Errorf("after stop: %+v in %v, want exited 5 quickly", st, time.Since(start))
	}
	if err := rt.Stop(ctx, id, 0, time.Second); err != ErrNotRunning {
		t.Errorf("second stop: %v, want ErrNotRunning", err)
	}
	var lines []string
	err := rt.Logs(ctx, id, LogOptions{Stdout: true, Stderr: true, Tail: -1}, func(e LogEntry) error {
		lines = append(lines, e.Stream+":"+e.Log)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each stream keeps its order; the two streams interleave freely.
	var outLines, errLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "stdout:") {
			outLines = append(outLines, l)
		} else {
			errLines = append(errLines, l)
		}
	}
	if got := strings.Join(outLines, "") + strings.Join(errLines, ""); got != "stdout:one\nstdout:bye\nstderr:two\n" {
		t.Errorf("logs = %q", lines)
	}

	// A container ignoring SIGTERM is killed after the grace period.
	id2 := startDetached(t, rt, "trap '' TERM; echo ignoring; while true; do sleep 0.1; done", nil)
	waitLogs(t, rt, id2, "stdout:ignoring\n")
	start = time.Now()
	if err := rt.Stop(ctx, id2, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ = rt.state(id2)
	if took := time.Since(start); st.ExitCode != 137 || took < time.Second || took > 5*time.Second {
		t.Errorf("stop after grace: exit %d in %v, want 137 after ~1s", st.ExitCode, took)
	}
	// restart runs it again; kill -s sends the signal.
	if err := rt.Restart(ctx, id2, time.Second); err != nil {
		t.Fatalf("restart: %v", err)
	}
	if st, _ := rt.state(id2); st.Status != StatusRunning {
		t.Fatalf("after restart: %+v", st)
	}
	waited := make(chan State, 1)
	go func() { st, _ := rt.Wait(ctx, id2, WaitNotRunning); waited <- st }()
	if err := rt.Kill(ctx, id2, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case st := <-waited:
		if st.ExitCode != 137 {
			t.Errorf("after kill: exit %d, want 137", st.ExitCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return after kill")
	}
	if err := rt.Remove(ctx, id2, false); err != nil {
		t.Errorf("rm of a stopped container: %v", err)
	}
	if _, err := os.Stat(filepath.Join(rt.dir, id2)); !os.IsNotExist(err) {
		t.Errorf("container folder left after rm: %v", err)
	}
}

func TestSurvivesAgentRestart(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := startDetached(t, rt, "echo before; read x; echo after $x; exit 9", func(s *Spec) { s.OpenStdin = true })
	waitLogs(t, rt, id, "stdout:before\n")
	pid := func() int { st, _ := rt.state(id); return st.Pid }()

	// A new runtime on the same folder, as after an agent restart or upgrade.
	rt2, err := New(ctx, rt.dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := rt2.Get(id)
	if err != nil || info.State.Status != StatusRunning || info.State.Pid != pid {
		t.Fatalf("after agent restart: %+v, %v; want running with pid %d", info.State, err, pid)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("container process gone: %v", err)
	}
	c, err := rt2.Attach(ctx, id, AttachOptions{Stdin: true, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for a container that is no longer running returns its state
	// at once: no need to let this one register first.
	waited := make(chan State, 1)
	go func() { st, _ := rt2.Wait(ctx, id, WaitNotRunning); waited <- st }()
	c.Write([]byte("now\n"))
	out, _, _ := demux(c)
	c.Close()
	if out != "after now\n" {
		t.Errorf("attached output %q", out)
	}
	select {
	case st := <-waited:
		if st.ExitCode != 9 {
			t.Errorf("exit code %d, want 9", st.ExitCode)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return")
	}
	var logs []string
	rt2.Logs(ctx, id, LogOptions{Stdout: true, Tail: -1}, func(e LogEntry) error { logs = append(logs, e.Log); return nil })
	if got := strings.Join(logs, ""); got != "before\nafter now\n" {
		t.Errorf("logs after agent restart = %q", got)
	}
}

func TestRestartPolicy(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := startDetached(t, rt, "exit 3", func(s *Spec) { s.RestartPolicy = RestartPolicy{Name: "on-failure", MaximumRetryCount: 2} })
	waitState(t, rt, id, "exited after 2 restarts", func(st State) bool { return st.Status == StatusExited && st.RestartCount == 2 })
	rt.waitMonitorGone(rt.entries[id], 10*time.Second)
	st, _ := rt.state(id)
	if st.Status != StatusExited || st.RestartCount != 2 || st.ExitCode != 3 {
		t.Errorf("on-failure:2 ended as %+v, want exited 3 after 2 restarts", st)
	}

	// always: a killed container comes back; stop ends it for good.
	id2 := startDetached(t, rt, "sleep 1000", func(s *Spec) { s.RestartPolicy = RestartPolicy{Name: "always"} })
	waitPID1(t, rt, id2, "sleep")
	first, _ := rt.state(id2)
	if err := rt.Kill(ctx, id2, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	st = waitState(t, rt, id2, "running again", func(st State) bool { return st.Status == StatusRunning && st.Pid != first.Pid })
	if st.Status != StatusRunning || st.RestartCount != 1 {
		t.Fatalf("always after kill: %+v, want running again", st)
	}
	// The restarted container survives an agent restart too.
	rt2, err := New(ctx, rt.dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt2.Stop(ctx, id2, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	// Nothing can restart it once its monitor is gone.
	rt2.waitMonitorGone(rt2.entries[id2], 10*time.Second)
	if st, _ := rt2.state(id2); st.Status != StatusExited {
		t.Errorf("always after stop: %+v, want exited", st)
	}
}
