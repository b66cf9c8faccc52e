package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/provision/agentbin"
)

func TestMain(m *testing.M) {
	// As a child of TestCreateInterrupt, be berth itself.
	if os.Getenv("BERTH_TEST_AS_MAIN") == "1" {
		if os.Getenv("BERTH_TEST_WAIT_SSH") == "1" {
			// Create waits for SSH as the real one does, so it is still
			// in progress when the test interrupts it after QEMU starts.
			createSteps.WaitSSH = wiredSteps.WaitSSH
		}
		if at := os.Getenv("BERTH_TEST_KILL_AT_STEP"); at != "" {
			// Killed (SIGKILL on Unix) as the step begins, as if the
			// user's berth died there.
			stepBegins = func(step string) {
				if step == at {
					if p, err := os.FindProcess(os.Getpid()); err == nil {
						p.Kill()
					}
					select {} // until the kill lands
				}
			}
		}
		if agent := os.Getenv("BERTH_TEST_AGENT"); agent != "" {
			// Every create step, provisioning the agent built for the
			// test (its path).
			createSteps = wiredSteps
			agentBinary = func(string) (*agentbin.Binary, error) { return agentbin.FromFile(agent, runtime.GOARCH) }
		}
		main()
		os.Exit(0)
	}
	// Programs berth starts as itself (the host agent) are this test
	// binary: they must be berth too.
	os.Setenv("BERTH_TEST_AS_MAIN", "1")
	os.Exit(m.Run())
}

// TestCreateInterrupt sends SIGINT to a berth create in progress: it exits
// 130 and leaves no machine behind.
func TestCreateInterrupt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGINT on Windows")
	}
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-s", root, "create", "-d", "fake", "--fake-delay", "1h", "--keep-on-error", "dev")
	cmd.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1")
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the create has reached the driver.
	err := testwait.Poll(context.Background(), 30*time.Second, func() error {
		if !strings.Contains(stderr.String(), "creating the VM") {
			return errors.New("not yet")
		}
		return nil
	})
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("create did not reach the driver: %s", stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("create after SIGINT: %v, want exit %d\n%s", err, exitInterrupted, stderr.String())
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr lacks the interruption: %s", stderr.String())
	}
	if got := mustBerth(t, root, "ls", "-q"); got != "" {
		t.Errorf("ls after an interrupted create = %q", got)
	}
	if entries, _ := os.ReadDir(root + "/machines"); len(entries) != 0 {
		t.Errorf("left in machines/: %v", entries)
	}
}

// syncBuffer is a bytes.Buffer that a child's output copier and the test
// can use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
