//go:build linux

package sshutil_test

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berthvm/berth/sshutil"
)

func TestWaitForSSHTimeoutSaysWhatItWaitedFor(t *testing.T) {
	srv, target := setup(t, "openssh")
	srv.Stop() // nothing listens on the port any more
	console := filepath.Join(t.TempDir(), "console.log")
	var log strings.Builder
	for i := range 40 {
		log.WriteString("boot line " + itoa(i) + "\r\n")
	}
	log.WriteString("\x1b[1;31mKernel panic - not syncing: VFS: Unable to mount root fs\x1b[0m\r\n")
	if err := os.WriteFile(console, []byte(log.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := sshutil.WaitForSSH(testContext(t), target, sshutil.WaitOptions{Timeout: 2 * time.Second, ConsoleLog: console, ConsoleLines: 3})
	if d := time.Since(start); d < 2*time.Second || d > 6*time.Second {
		t.Errorf("WaitForSSH took %s with a 2s timeout", d)
	}
	var we *sshutil.WaitTimeoutError
	if !errors.As(err, &we) || !errors.Is(err, sshutil.ErrWaitTimeout) {
		t.Fatalf("WaitForSSH = %v, want *WaitTimeoutError", err)
	}
	if we.Attempts < 3 {
		t.Errorf("attempts = %d, want several (backoff from 100ms)", we.Attempts)
	}
	msg := err.Error()
	for _, want := range []string{
		"ssh to root@" + srv.Addr() + " did not answer within 2s",
		"connection refused",
		"last lines of the console log " + console,
		"| boot line 38\n    | boot line 39\n    | Kernel panic - not syncing: VFS: Unable to mount root fs",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "boot line 37") || strings.Contains(msg, "\x1b") {
		t.Errorf("error quotes more than 3 lines or escape codes:\n%s", msg)
	}

	// An empty console log is named as such.
	empty := filepath.Join(t.TempDir(), "empty.log")
	os.WriteFile(empty, nil, 0o600)
	_, err = sshutil.WaitForSSH(testContext(t), target, sshutil.WaitOptions{Timeout: 300 * time.Millisecond, ConsoleLog: empty})
	if err == nil || !strings.Contains(err.Error(), "the console log "+empty+" is empty") {
		t.Errorf("with an empty console log: %v", err)
	}
}

// A server that accepts TCP but never speaks SSH (a VM whose port forward
// exists before its sshd does) must not hang WaitForSSH past its timeout.
func TestWaitForSSHSilentServer(t *testing.T) {
	_, target := setup(t, "openssh")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	target.Addr = l.Addr().String()
	start := time.Now()
	_, err = sshutil.WaitForSSH(testContext(t), target, sshutil.WaitOptions{Timeout: 1500 * time.Millisecond})
	if !errors.Is(err, sshutil.ErrWaitTimeout) {
		t.Errorf("WaitForSSH on a silent server = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("WaitForSSH took %s with a 1.5s timeout", d)
	}
}

// WaitForSSH succeeds once a server that was down comes up.
func TestWaitForSSHServerComesUp(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv, target := setup(t, kind)
		srv.Stop()
		restarted := make(chan struct{})
		go func() {
			defer close(restarted)
			time.Sleep(1500 * time.Millisecond) // time passing: WaitForSSH retries while the server is down
			srv.Restart(t, false)
		}()
		defer func() { <-restarted }()
		c, err := sshutil.WaitForSSH(testContext(t), target, sshutil.WaitOptions{Timeout: 30 * time.Second})
		if err != nil {
			t.Fatalf("WaitForSSH: %v", err)
		}
		defer c.Close()
		if out, err := c.Output(testContext(t), "echo up"); err != nil || string(out) != "up\n" {
			t.Errorf("after WaitForSSH: %q, %v", out, err)
		}
	})
}

// A port forward that holds the connections made before the guest has an
// address (QEMU's user network does, while its SYNs go unanswered) must
// not hold up WaitForSSH once the guest answers: an attempt made then gets
// through while the earlier ones still hang.
func TestWaitForSSHPastHeldConnections(t *testing.T) {
	srv, target := setup(t, "openssh")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const answersAfter = 2500 * time.Millisecond
	start := time.Now()
	released := make(chan struct{})
	defer close(released)
	var held atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			if time.Since(start) < answersAfter {
				held.Add(1)
				go func() { <-released; c.Close() }()
				continue
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", srv.Addr())
				if err != nil {
					return
				}
				defer s.Close()
				go io.Copy(s, c)
				io.Copy(c, s)
			}()
		}
	}()
	target.Addr = l.Addr().String()
	c, err := sshutil.WaitForSSH(testContext(t), target, sshutil.WaitOptions{Timeout: time.Minute})
	took := time.Since(start)
	if err != nil {
		t.Fatalf("WaitForSSH: %v", err)
	}
	c.Close()
	// One attempt at a time, the attempt made at 2.1 s hung until 4.1 s.
	if took > answersAfter+1300*time.Millisecond {
		t.Errorf("WaitForSSH took %s; the port answered from %s on (held connections: %d)", took.Round(time.Millisecond), answersAfter, held.Load())
	}
}
