package sshutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"golang.org/x/crypto/ssh"
)

// ExitError says that a remote command ran and ended unsuccessfully.
type ExitError struct {
	Command string
	Status  int    // the exit status; meaningful when Signal is empty
	Signal  string // the signal that killed it ("KILL"), if any
}

func (e *ExitError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("remote command %q killed by signal %s", e.Command, e.Signal)
	}
	return fmt.Sprintf("remote command %q exited with status %d", e.Command, e.Status)
}

// ExitCode is the code a local shell would report: the status, or 128 plus
// the signal number for a known signal, or 255 (what OpenSSH's ssh exits
// with when the remote side gives no status).
func (e *ExitError) ExitCode() int {
	if e.Signal == "" {
		return e.Status
	}
	if n, ok := signalNumbers[e.Signal]; ok {
		return 128 + n
	}
	return 255
}

var signalNumbers = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "ABRT": 6, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15,
}

// IO is where a remote command's streams go. Nil readers and writers mean
// empty input and discarded output.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Run runs cmd (a shell command line) on the machine, streaming its
// output as it comes, and returns nil on exit status 0, *ExitError on
// another status or a signal, or the error that stopped it. When ctx ends
// the remote command is sent SIGKILL (where the server supports signals)
// and its channel is closed.
func (c *Client) Run(ctx context.Context, cmd string, streams IO) error {
	s, release, err := c.newSession(ctx, false)
	if err != nil {
		return fmt.Errorf("run %q on %s: %w", cmd, c.target, err)
	}
	s.Stdin, s.Stdout, s.Stderr = streams.Stdin, streams.Stdout, streams.Stderr
	s.Stdout, s.Stderr = shareWriter(s.Stdout, s.Stderr)
	if err := s.Start(cmd); err != nil {
		s.Close()
		release()
		return fmt.Errorf("run %q on %s: %w", cmd, c.target, err)
	}
	return waitSession(ctx, s, release, cmd, c.target)
}

func exitError(err error, cmd string, t Target) error {
	if err == nil {
		return nil
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return &ExitError{Command: cmd, Status: ee.ExitStatus(), Signal: ee.Signal()}
	}
	var missing *ssh.ExitMissingError
	if errors.As(err, &missing) {
		return fmt.Errorf("run %q on %s: the connection ended without an exit status: %w", cmd, t, err)
	}
	return fmt.Errorf("run %q on %s: %w", cmd, t, err)
}

// CombinedOutput runs cmd with empty input and returns what it wrote to
// stdout and stderr, interleaved as it arrived, with Run's error.
func (c *Client) CombinedOutput(ctx context.Context, cmd string) ([]byte, error) {
	var w lockedBuffer
	err := c.Run(ctx, cmd, IO{Stdout: &w, Stderr: &w})
	return w.Bytes(), err
}

// Output runs cmd with empty input and returns its stdout. On *ExitError
// the error also quotes the end of stderr.
func (c *Client) Output(ctx context.Context, cmd string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	err := c.Run(ctx, cmd, IO{Stdout: &stdout, Stderr: &stderr})
	var ee *ExitError
	if errors.As(err, &ee) && stderr.Len() > 0 {
		msg := stderr.Bytes()
		if len(msg) > 2048 {
			msg = msg[len(msg)-2048:]
		}
		return stdout.Bytes(), fmt.Errorf("%w: %s", err, bytes.TrimSpace(msg))
	}
	return stdout.Bytes(), err
}

// shareWriter returns stdout and stderr, or, when both are the same
// writer, that writer behind a lock: the two streams are copied by two
// goroutines, and most writers (a bytes.Buffer) do not allow that.
func shareWriter(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if stdout == nil || !interfaceEqual(stdout, stderr) {
		return stdout, stderr
	}
	w := &lockedWriter{w: stdout}
	return w, w
}

// interfaceEqual is a == b, false when their type cannot be compared.
func interfaceEqual(a, b any) (equal bool) {
	defer func() {
		if recover() != nil {
			equal = false
		}
	}()
	return a == b
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// lockedBuffer is a bytes.Buffer that two copy goroutines can write to.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}
