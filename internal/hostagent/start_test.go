//go:build !windows

package hostagent

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestMain lets this test binary be a stand-in host agent: it takes the
// lock and listens on the socket of the machine folder it is given, until
// killed.
func TestMain(m *testing.M) {
	if dir := os.Getenv("HOSTAGENT_TEST_FAKE"); dir != "" {
		if _, err := lock(dir); err != nil {
			os.Exit(3)
		}
		os.WriteFile(filepath.Join(dir, PidFile), []byte(strconv.Itoa(os.Getpid())), 0o600)
		ln, err := listen(dir)
		if err != nil {
			os.Exit(4)
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(5)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

// TestStartStop starts a stand-in host agent, checks that other children
// of this process are still waited for normally afterwards (Start keeps
// waiting for its child; releasing it while waiting let the wait reap
// other children), and stops it.
func TestStartStop(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOSTAGENT_TEST_FAKE", dir)
	started, err := Start(context.Background(), dir, []string{os.Args[0]})
	if err != nil || !started {
		t.Fatalf("Start = %v, %v; want started", started, err)
	}
	if again, err := Start(context.Background(), dir, []string{os.Args[0]}); err != nil || again {
		t.Errorf("second Start = %v, %v; want it to find the running one", again, err)
	}
	os.Unsetenv("HOSTAGENT_TEST_FAKE")
	for i := range 20 {
		done := make(chan error, 1)
		cmd := exec.Command("true")
		go func() { done <- cmd.Run() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d of true: %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d of true not waited for within 10 s", i)
		}
	}
	if err := Stop(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	if Running(dir) {
		t.Error("the host agent still runs after Stop")
	}
}
