//go:build linux

package sshutil_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/sshutil"
)

// The shell gets a PTY sized like the local terminal, follows resizes,
// returns the shell's exit status and gives the terminal back as it was.
func TestShellWithPTY(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ptmx, tty, err := pty.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer ptmx.Close()
		defer tty.Close()
		if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
			t.Fatal(err)
		}
		before, err := term.GetState(int(tty.Fd()))
		if err != nil {
			t.Fatal(err)
		}
		var screen syncBuf
		go io.Copy(&screen, ptmx)

		resize := make(chan struct{}, 1)
		done := make(chan error, 1)
		ctx := testContext(t)
		go func() {
			done <- c.Shell(ctx, sshutil.ShellOptions{Stdin: tty, Stdout: tty, Stderr: tty, Term: "dumb", Resize: resize})
		}()
		// The local terminal is raw while the shell runs: the remote PTY
		// does the echoing and line editing.
		testwait.Until(t, 20*time.Second, "raw mode on the local terminal", func() bool {
			st, _ := term.GetState(int(tty.Fd()))
			return st != nil && !reflect.DeepEqual(st, before)
		})

		io.WriteString(ptmx, "echo mark-$((40+2)); stty size; tty; echo TERM=$TERM\n")
		waitFor(t, &screen, "the command's output with a 30x100 PTY", func(s string) bool {
			return strings.Contains(s, "mark-42") && strings.Contains(s, "30 100") && strings.Contains(s, "/dev/pts/") && strings.Contains(s, "TERM=dumb")
		})

		pty.Setsize(ptmx, &pty.Winsize{Rows: 41, Cols: 132})
		resize <- struct{}{}
		// The resize reaches the remote PTY some time after: ask its size
		// until it is the new one, each time once the last answer came.
		asked := 0
		testwait.For(t, 20*time.Second, "the PTY resized to 41x132", func() error {
			asked++
			// The terminal echoes the command; only the shell's answer
			// has the sum.
			io.WriteString(ptmx, fmt.Sprintf("stty size; echo asked-$((%d+1000))\n", asked))
			answered := fmt.Sprintf("asked-%d", asked+1000)
			waitFor(t, &screen, "the answer to stty size", func(s string) bool { return strings.Contains(s, answered) })
			if !strings.Contains(screen.String(), "41 132") {
				return errors.New("stty size still answers the old size")
			}
			return nil
		})

		io.WriteString(ptmx, "exit 5\n")
		select {
		case err := <-done:
			var ee *sshutil.ExitError
			if !errors.As(err, &ee) || ee.Status != 5 {
				t.Errorf("Shell = %v, want exit status 5", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("Shell did not return after exit; screen:\n%s", screen.String())
		}
		after, err := term.GetState(int(tty.Fd()))
		if err != nil || !reflect.DeepEqual(after, before) {
			t.Errorf("terminal state not restored after the shell")
		}
	})
}

// Without a terminal the shell reads commands from stdin, with no PTY.
func TestShellWithoutTerminal(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		var out bytes.Buffer
		err := c.Shell(testContext(t), sshutil.ShellOptions{
			Stdin:  strings.NewReader("echo $((6*7)); tty || true\n"),
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := out.String(); !strings.Contains(got, "42\n") || !strings.Contains(got, "not a tty") {
			t.Errorf("output = %q, want 42 and \"not a tty\"", got)
		}
		// With a command, like `berth ssh dev -- CMD`.
		out.Reset()
		err = c.Shell(context.Background(), sshutil.ShellOptions{Command: "exit 9", Stdout: &out, Stderr: &out})
		var ee *sshutil.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 9 {
			t.Errorf("Shell(exit 9) = %v", err)
		}
	})
}

// waitFor waits until what the terminal showed satisfies cond.
func waitFor(t *testing.T, screen *syncBuf, what string, cond func(string) bool) {
	t.Helper()
	testwait.For(t, 20*time.Second, what, func() error {
		if s := screen.String(); !cond(s) {
			return fmt.Errorf("the screen shows:\n%s", s)
		}
		return nil
	})
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
