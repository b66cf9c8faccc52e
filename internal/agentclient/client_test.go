//go:build linux

package agentclient_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/sshutil"
	"github.com/berthvm/berth/sshutil/sshtest"
)

// agentBin is the berth-agent the tests run (the shared test build, see
// testenv.Agent).
var agentBin string

func TestMain(m *testing.M) {
	var err error
	if agentBin, err = testenv.Agent("1.0.0-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// serveAgent runs the agent on a socket in a temporary folder.
func serveAgent(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "agent.sock")
	var logs bytes.Buffer
	// --bridge=false: the host's own network is not the test's to change.
	cmd := exec.Command(agentBin, "serve", "--bridge=false", "--socket", sock, "--state-dir", filepath.Join(dir, "state"))
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("agent log:\n%s", logs.String())
		}
	})
	testwait.Dial(t, 10*time.Second, "unix", sock)
	return sock
}

// dialSSH starts a real SSH server of kind on 127.0.0.1 and connects.
func dialSSH(t *testing.T, kind string) *sshutil.Client {
	t.Helper()
	testenv.NeedRoot(t)
	dir := t.TempDir()
	key, err := sshutil.GenerateKey(filepath.Join(dir, "id_ed25519"), "berth-test")
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, kind, key.PublicKey)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sshutil.Dial(ctx, sshutil.Target{
		Addr: srv.Addr(), User: srv.User, Key: key,
		HostKeys: &sshutil.HostKeys{Machine: "dev", Path: filepath.Join(dir, "known_hosts")},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// muxClient is a client over SSH to a server of kind, whose dial-mux
// reaches a test agent on sock; ctx bounds the test.
func muxClient(t *testing.T, kind string) (ctx context.Context, c *agentclient.Client, sock string) {
	t.Helper()
	sc := dialSSH(t, kind)
	sock = serveAgent(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	c, err := agentclient.New(ctx, sc, agentclient.Options{Machine: "dev", AgentPath: agentBin, Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ctx, c, sock
}

func TestClientOverSSH(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, c, _ := muxClient(t, kind)
			if !c.Muxed() {
				t.Error("Muxed = false, want the streams on one dial-mux session")
			}
			if got, want := c.ClientVersion(), "1.47"; got != want {
				t.Errorf("negotiated API version = %s, want %s", got, want)
			}
			// Many requests over the one SSH connection.
			for i := 0; i < 5; i++ {
				v, err := c.ServerVersion(ctx, client.ServerVersionOptions{})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if v.Version != "1.0.0-test" {
					t.Errorf("server version = %q, want 1.0.0-test", v.Version)
				}
			}
			h, err := c.Health(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if h.Version != "1.0.0-test" || h.Kernel == "" {
				t.Errorf("health = %+v, want version 1.0.0-test and a kernel", h)
			}
			av, err := c.AgentVersion(ctx)
			if err != nil || av.Version != "1.0.0-test" {
				t.Errorf("AgentVersion = %+v, %v; want 1.0.0-test", av, err)
			}
			// Requests through both paths, in turns: old dropbear allows one
			// session per connection, held by idle keep-alive streams.
			for i := 0; i < 3; i++ {
				if _, err := c.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
					t.Fatalf("turn %d: ServerVersion: %v", i, err)
				}
				if _, err := c.Health(ctx); err != nil {
					t.Fatalf("turn %d: Health: %v", i, err)
				}
			}
			// A stream kept open (as a hijacked attach is) while other
			// requests run.
			held, err := c.Dialer()(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Health(ctx); err != nil {
				t.Errorf("Health while another stream is open: %v", err)
			}
			if _, err := c.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
				t.Errorf("ServerVersion while another stream is open: %v", err)
			}
			held.Close()
		})
	}
}

func TestClientErrors(t *testing.T) {
	sc := dialSSH(t, sshtest.OpenSSH)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tests := []struct {
		name      string
		opts      agentclient.Options
		wantStage agentclient.Stage
		wantMsg   string
		wantIs    error
	}{
		{"agent not running", agentclient.Options{Machine: "dev", AgentPath: agentBin, Socket: filepath.Join(t.TempDir(), "none.sock")},
			agentclient.StageAgent, "the agent is not running", agentclient.ErrAgentNotRunning},
		{"agent missing", agentclient.Options{Machine: "dev", AgentPath: "/nonexistent/berth-agent"},
			agentclient.StageAgent, "no agent installed", agentclient.ErrNoAgent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := agentclient.New(ctx, sc, tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("New succeeded, want an error")
			}
			var ae *agentclient.Error
			if !errors.As(err, &ae) || ae.Stage != tt.wantStage || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want stage %s with %q", err, tt.wantStage, tt.wantMsg)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("err = %v, want one that is %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), "berth provision dev") {
				t.Errorf("err = %v, want the hint `berth provision dev`", err)
			}
		})
	}

	// The SSH connection gone: an ssh-stage error.
	sc.Close()
	_, err := agentclient.New(ctx, sc, agentclient.Options{Machine: "dev", AgentPath: agentBin})
	var ae *agentclient.Error
	if !errors.As(err, &ae) || ae.Stage != agentclient.StageSSH {
		t.Errorf("closed ssh: err = %v, want stage ssh", err)
	}
}

// wrapAgent writes a script that runs the test agent: dial-mux answers as
// an agent older than it does (unknown command) when old is set, and the
// script writes its pid (the agent's, it execs) and command to pidFile.
func wrapAgent(t *testing.T, old bool, pidFile string) string {
	t.Helper()
	script := "#!/bin/sh\n"
	if old {
		script += `if [ "$1" = dial-mux ]; then echo "berth-agent: unknown command \"$1\"" >&2; exit 2; fi` + "\n"
	}
	script += "echo $$ $1 >> " + pidFile + "\nexec " + agentBin + ` "$@"` + "\n"
	path := filepath.Join(t.TempDir(), "berth-agent")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func pids(t *testing.T, pidFile string) []string {
	t.Helper()
	b, _ := os.ReadFile(pidFile)
	var pids []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			pids = append(pids, f[0])
		}
	}
	return pids
}

// TestClientOldAgent: an agent without dial-mux is reached through a
// dial-stdio session per stream, on both kinds of server.
func TestClientOldAgent(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			sc := dialSSH(t, kind)
			sock := serveAgent(t)
			pidFile := filepath.Join(t.TempDir(), "pids")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := agentclient.New(ctx, sc, agentclient.Options{Machine: "dev", AgentPath: wrapAgent(t, true, pidFile), Socket: sock})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Muxed() {
				t.Error("Muxed = true with an agent without dial-mux")
			}
			for i := range 3 {
				if _, err := c.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			held, err := c.DialStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			if _, err := c.Health(ctx); err != nil {
				t.Errorf("Health beside a held stream: %v", err)
			}
			// dial-stdio for each of the transports' connections and the held one.
			if n := len(pids(t, pidFile)); n < 2 {
				t.Errorf("dial-stdio ran %d times, want one per stream", n)
			}
		})
	}
}

// TestClientMuxReopens: when the dial-mux session ends (its process
// killed), the next request starts another; a held stream fails with
// an error rather than hanging.
func TestClientMuxReopens(t *testing.T) {
	sc := dialSSH(t, sshtest.Dropbear)
	sock := serveAgent(t)
	pidFile := filepath.Join(t.TempDir(), "pids")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := agentclient.New(ctx, sc, agentclient.Options{Machine: "dev", AgentPath: wrapAgent(t, false, pidFile), Socket: sock})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	held, err := c.DialStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	for i := range 3 {
		if _, err := c.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	started := pids(t, pidFile)
	if len(started) != 1 {
		t.Fatalf("agent started %d times for 4 streams, want once (dial-mux)", len(started))
	}
	pid, _ := strconv.Atoi(started[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	held.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := held.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read of a stream whose session was killed: %v, want the session's end", err)
	}
	if _, err := c.ServerVersion(ctx, client.ServerVersionOptions{}); err != nil {
		t.Fatalf("request after the session ended: %v", err)
	}
	if n := len(pids(t, pidFile)); n != 2 {
		t.Errorf("agent started %d times, want twice (a second dial-mux)", n)
	}
}

// TestWaitNewForStartingAgent: an agent that serves only after a while is
// waited for on the machine (its shell watches for the socket), not by
// starting an agent process from the host every retry.
func TestWaitNewForStartingAgent(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			sc := dialSSH(t, kind)
			pidFile := filepath.Join(t.TempDir(), "pids")
			agent := wrapAgent(t, false, pidFile)
			sock := filepath.Join(t.TempDir(), "agent.sock")
			go func() {
				time.Sleep(1500 * time.Millisecond)
				cmd := exec.Command(agentBin, "serve", "--bridge=false", "--socket", sock, "--state-dir", filepath.Join(filepath.Dir(sock), "state"))
				if err := cmd.Start(); err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			c, err := agentclient.WaitNew(ctx, sc, agentclient.Options{Machine: "dev", AgentPath: agent, Socket: sock}, 200*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Health(ctx); err != nil {
				t.Fatal(err)
			}
			// Polling from the host every 200 ms for 1.5 s would have
			// started about 8.
			if n := len(pids(t, pidFile)); n > 2 {
				t.Errorf("%d agent processes started while waiting, want at most 2", n)
			}
		})
	}
	// No agent installed: at once, with ErrNoAgent.
	sc := dialSSH(t, sshtest.OpenSSH)
	began := time.Now()
	_, err := agentclient.WaitNew(context.Background(), sc, agentclient.Options{Machine: "dev", AgentPath: "/nonexistent/berth-agent"}, 200*time.Millisecond)
	if !errors.Is(err, agentclient.ErrNoAgent) || time.Since(began) > 10*time.Second {
		t.Errorf("without an agent: %v after %s, want ErrNoAgent at once", err, time.Since(began))
	}
}

// TestClientEarlyStream: a stream opened early carries a request like
// any other; once the agent's socket is gone, one fails its first read
// with the agent-stage error DialStream gives (dial-mux refused it), on
// both kinds of server.
func TestClientEarlyStream(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx, c, sock := muxClient(t, kind)
			ping := func() (string, error) {
				st, err := c.DialStreamEarly(ctx)
				if err != nil {
					return "", err
				}
				defer st.Close()
				st.SetDeadline(time.Now().Add(20 * time.Second))
				if _, err := io.WriteString(st, "GET /_ping HTTP/1.1\r\nHost: agent\r\nConnection: close\r\n\r\n"); err != nil {
					return "", err
				}
				b, err := io.ReadAll(st)
				return string(b), err
			}
			if got, err := ping(); err != nil || !strings.HasPrefix(got, "HTTP/1.1 200") {
				t.Fatalf("ping over an early stream: %q, %v", got, err)
			}
			if err := os.Remove(sock); err != nil {
				t.Fatal(err)
			}
			_, err := ping()
			var ae *agentclient.Error
			if !errors.As(err, &ae) || ae.Stage != agentclient.StageAgent || !errors.Is(err, agentclient.ErrAgentNotRunning) {
				t.Errorf("early stream to a removed socket: %v, want the agent-stage error that the agent is not running", err)
			}
		})
	}
}
