//go:build linux

package sshutil_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/berthvm/berth/sshutil"
)

func TestRunExitCodesAndStreams(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		tests := []struct {
			cmd        string
			stdin      string
			wantOut    string
			wantErr    string
			wantStatus int // -1: success
			wantSignal string
			wantCode   int
		}{
			{cmd: "true", wantStatus: -1},
			{cmd: "echo out; echo err >&2; exit 3", wantOut: "out\n", wantErr: "err\n", wantStatus: 3, wantCode: 3},
			{cmd: "exit 255", wantStatus: 255, wantCode: 255},
			{cmd: "tr a-z A-Z", stdin: "hello\n", wantOut: "HELLO\n", wantStatus: -1},
			{cmd: "kill -9 $$", wantSignal: "KILL", wantCode: 137},
		}
		for _, tt := range tests {
			var stdout, stderr bytes.Buffer
			err := c.Run(ctx, tt.cmd, sshutil.IO{Stdin: strings.NewReader(tt.stdin), Stdout: &stdout, Stderr: &stderr})
			if stdout.String() != tt.wantOut || stderr.String() != tt.wantErr {
				t.Errorf("Run(%q) wrote %q, %q; want %q, %q", tt.cmd, stdout.String(), stderr.String(), tt.wantOut, tt.wantErr)
			}
			if tt.wantStatus == -1 {
				if err != nil {
					t.Errorf("Run(%q) = %v, want nil", tt.cmd, err)
				}
				continue
			}
			var ee *sshutil.ExitError
			if !errors.As(err, &ee) {
				t.Errorf("Run(%q) = %v, want *ExitError", tt.cmd, err)
				continue
			}
			if tt.wantSignal != "" && ee.Signal != tt.wantSignal || tt.wantSignal == "" && ee.Status != tt.wantStatus {
				t.Errorf("Run(%q) = status %d signal %q, want %d %q", tt.cmd, ee.Status, ee.Signal, tt.wantStatus, tt.wantSignal)
			}
			if got := ee.ExitCode(); got != tt.wantCode {
				t.Errorf("Run(%q) ExitCode = %d, want %d", tt.cmd, got, tt.wantCode)
			}
		}
	})
}

func TestOutputHelpers(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		out, err := c.CombinedOutput(ctx, "echo one; sleep 0.5; echo two >&2; exit 4")
		if got, want := string(out), "one\ntwo\n"; got != want {
			t.Errorf("CombinedOutput = %q, want %q", got, want)
		}
		var ee *sshutil.ExitError
		if !errors.As(err, &ee) || ee.Status != 4 {
			t.Errorf("CombinedOutput error = %v, want exit status 4", err)
		}
		out, err = c.Output(ctx, "echo data; echo 'it broke' >&2; exit 1")
		if string(out) != "data\n" || err == nil || !strings.Contains(err.Error(), "it broke") || !errors.As(err, &ee) {
			t.Errorf("Output = %q, %v; want \"data\\n\" and an *ExitError quoting stderr", out, err)
		}
	})
}

// One connection carries many sessions, one after another.
func TestManySessionsInTurn(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		for i := range 30 {
			out, err := c.Output(ctx, fmt.Sprintf("echo %d", i))
			if err != nil || string(out) != fmt.Sprintf("%d\n", i) {
				t.Fatalf("session %d: %q, %v", i, out, err)
			}
		}
	})
}

// One client carries more sessions at once than OpenSSH allows on one
// connection (MaxSessions 10): the client queues them. Dropbear 2022.83
// (Debian 12) would kill the connection (see oneSessionPerConn); the
// client gives each session a connection of its own there.
func TestManySessionsAtOnce(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := c.Output(ctx, fmt.Sprintf("echo %d", i))
				if err != nil || string(out) != fmt.Sprintf("%d\n", i) {
					errs <- fmt.Errorf("session %d: %q, %v", i, out, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

func TestRunStopsWhenContextEnds(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx, cancel := context.WithTimeout(testContext(t), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := c.Run(ctx, "sleep 30", sshutil.IO{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run(sleep 30) with a 500ms context = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run returned after %s, want soon after the context ended", d)
		}
		// The connection is still usable.
		if out, err := c.Output(testContext(t), "echo still-here"); err != nil || string(out) != "still-here\n" {
			t.Errorf("after a cancelled run: %q, %v", out, err)
		}
	})
}
