package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/streammux"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// agentBin is the berth-agent the tests in this package run (the shared
// test build, see testenv.Agent).
var agentBin string

func TestMain(m *testing.M) {
	var err error
	if agentBin, err = testenv.Agent("1.0.0-test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// serve runs `berth-agent serve` in a temporary folder until the test ends
// and returns the socket's path once it answers.
func serve(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "run", "agent.sock")
	var logs bytes.Buffer
	// --bridge=false: the host's own network is not the test's to change.
	cmd := exec.Command(agentBin, "serve", "--bridge=false", "--socket", sock, "--state-dir", filepath.Join(dir, "state"),
		"--log-file", filepath.Join(dir, "agent.log"), "--debug")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("agent exit after SIGINT: %v\n%s", err, logs.String())
			} else if t.Failed() {
				t.Logf("agent log:\n%s", logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("agent did not stop on SIGINT\n%s", logs.String())
		}
		if _, err := os.Stat(sock); err == nil {
			t.Errorf("socket %s left behind after stop", sock)
		}
	})
	testwait.Dial(t, 10*time.Second, "unix", sock) // the cleanup shows the agent's log
	return sock
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(agentBin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(out)), "1.0.0-test"; got != want {
		t.Errorf("version = %q, want %q", got, want)
	}
}

func TestUsage(t *testing.T) {
	err := exec.Command(agentBin, "frobnicate").Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("unknown command: err = %v, want exit code 2", err)
	}
}

func TestServeBadFlags(t *testing.T) {
	tests := []struct{ flag, want string }{
		{"--host-gateway=nope", "--host-gateway"},
		{"--bridge-subnet=nope", "--bridge-subnet"},
	}
	for _, tc := range tests {
		out, err := exec.Command(agentBin, "serve", tc.flag, "--socket", filepath.Join(t.TempDir(), "s"), "--state-dir", t.TempDir()).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("serve %s: err %v, output %q; want a failure naming %s", tc.flag, err, out, tc.want)
		}
	}
}

// TestDialStdio sends two requests on one dial-stdio process, half-closes
// its stdin, and expects both answers before it exits.
func TestDialStdio(t *testing.T) {
	sock := serve(t)
	req := "GET /_ping HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n" +
		"GET /v1.47/berth/v1/version HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, agentBin, "dial-stdio", "--socket", sock)
	cmd.Stdin = strings.NewReader(req)
	// Stdin reaches EOF right after the requests: the agent must still
	// answer both, then close, which ends dial-stdio.
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dial-stdio: %v (output %q)", err, out)
	}
	got := string(out)
	for _, want := range []string{"HTTP/1.1 200 OK", "Api-Version: 1.47", "\r\n\r\nOK", `"version":"1.0.0-test"`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "HTTP/1.1 200 OK"); n != 2 {
		t.Errorf("got %d answers, want 2:\n%s", n, got)
	}
}

func TestDialStdioNoAgent(t *testing.T) {
	out, err := exec.Command(agentBin, "dial-stdio", "--socket", filepath.Join(t.TempDir(), "none.sock")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "connect to the agent") {
		t.Errorf("dial-stdio without agent: err = %v, output %q, want a 'connect to the agent' failure", err, out)
	}
}

// TestDockerCLI runs the real docker CLI against the agent's socket.
func TestDockerCLI(t *testing.T) {
	testenv.NeedCommand(t, "docker")
	sock := serve(t)
	cmd := exec.Command("docker", "version", "--format", "{{.Server.Version}} {{.Server.APIVersion}} {{.Server.Os}}")
	cmd.Env = append(os.Environ(), "DOCKER_HOST=unix://"+sock, "DOCKER_CONFIG="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "1.0.0-test 1.47 linux"; got != want {
		t.Errorf("docker version = %q, want %q", got, want)
	}
}

// TestServeFiles checks the pid file next to the socket (which berth-os's
// supervisor also writes) and the --log-file.
func TestServeFiles(t *testing.T) {
	sock := serve(t)
	pidPath := filepath.Join(filepath.Dir(sock), "agent.pid")
	logPath := filepath.Join(filepath.Dir(filepath.Dir(sock)), "agent.log")
	// The socket answers a moment before the files are written.
	err := testwait.Poll(context.Background(), 5*time.Second, func() error {
		if pid, _ := os.ReadFile(pidPath); strings.TrimSpace(string(pid)) == "" {
			return fmt.Errorf("pid file %s is empty or missing", pidPath)
		}
		if logText, _ := os.ReadFile(logPath); !strings.Contains(string(logText), "berth-agent serving") {
			return fmt.Errorf("agent.log = %q, want it to contain %q", logText, "berth-agent serving")
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// pipes joins a command's stdout and stdin into one ReadWriteCloser.
type pipes struct {
	io.Reader
	io.WriteCloser
}

// TestDialMux opens streams on one dial-mux process: two HTTP exchanges
// that end with a half-close, one at a time and side by side, then a
// stream to a socket where no agent listens, refused with dial-stdio's
// words; the process ends when its stdin does.
func TestDialMux(t *testing.T) {
	sock := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := func(socket string) (*streammux.Session, *exec.Cmd) {
		cmd := exec.CommandContext(ctx, agentBin, "dial-mux", "--socket", socket)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s, err := streammux.Client(ctx, pipes{stdout, stdin})
		if err != nil {
			t.Fatal(err)
		}
		return s, cmd
	}
	s, cmd := start(sock)
	get := func(path string) (string, error) {
		st, err := s.Open(ctx)
		if err != nil {
			return "", err
		}
		defer st.Close()
		fmt.Fprintf(st, "GET %s HTTP/1.1\r\nHost: api.moby.localhost\r\n\r\n", path)
		st.CloseWrite()
		out, err := io.ReadAll(st)
		return string(out), err
	}
	for _, path := range []string{"/_ping", "/v1.47/berth/v1/version"} {
		out, err := get(path)
		if err != nil || !strings.Contains(out, "HTTP/1.1 200 OK") {
			t.Errorf("GET %s: %q, %v; want 200 OK", path, out, err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := get("/_ping"); err != nil || !strings.HasSuffix(out, "\r\n\r\nOK") {
				t.Errorf("GET /_ping beside others: %q, %v", out, err)
			}
		}()
	}
	wg.Wait()
	s.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("dial-mux after its input ended: %v", err)
	}

	s, cmd = start(filepath.Join(t.TempDir(), "none.sock"))
	_, err := s.Open(ctx)
	var re *streammux.ResetError
	if !errors.As(err, &re) || !strings.HasPrefix(re.Reason, "connect to the agent (is it running?)") {
		t.Errorf("stream without an agent: %v, want a refusal saying connect to the agent", err)
	}
	s.Close()
	cmd.Wait()
}
