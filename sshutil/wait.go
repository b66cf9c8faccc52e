package sshutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ErrWaitTimeout matches (errors.Is) every *WaitTimeoutError.
var ErrWaitTimeout = errors.New("timed out waiting for ssh")

// WaitOptions tunes WaitForSSH.
type WaitOptions struct {
	// Timeout is how long to keep trying. Zero means DefaultWaitTimeout.
	Timeout time.Duration
	// ConsoleLog is a file (the VM's serial console) whose last lines the
	// timeout error quotes, so that the user sees why the machine did not
	// answer. Empty means none.
	ConsoleLog string
	// ConsoleLines is how many lines to quote. Zero means 15.
	ConsoleLines int
}

// firstAttemptLimit bounds WaitForSSH's first attempt; each attempt that
// runs out doubles it for the next. A hypervisor's port forward accepts
// the connection before the guest listens and, while the guest has no
// address yet, holds it as long as its SYNs go unanswered: a fresh attempt
// gets through sooner than one waiting out TCP's backoff.
const firstAttemptLimit = 2 * time.Second

// quickPolling is how long WaitForSSH retries at its shortest pause.
const quickPolling = 30 * time.Second

// DefaultWaitTimeout is WaitForSSH's timeout when none is given; boots
// under software emulation take tens of seconds.
const DefaultWaitTimeout = 3 * time.Minute

// WaitTimeoutError says what WaitForSSH waited for and why it gave up.
type WaitTimeoutError struct {
	Target     string        // user@host:port
	Waited     time.Duration // how long it tried
	Attempts   int
	Last       error    // the last attempt's error
	ConsoleLog string   // the console log that was read, if any
	Console    []string // its last lines
	ConsoleErr error    // why the console log could not be read
}

func (e *WaitTimeoutError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ssh to %s did not answer within %s (%d attempts", e.Target, e.Waited.Round(time.Second), e.Attempts)
	if e.Last != nil {
		fmt.Fprintf(&b, "; last error: %v", e.Last)
	}
	b.WriteString(")")
	switch {
	case e.ConsoleLog == "":
	case e.ConsoleErr != nil:
		fmt.Fprintf(&b, "; console log unreadable: %v", e.ConsoleErr)
	case len(e.Console) == 0:
		fmt.Fprintf(&b, "; the console log %s is empty (did the VM boot at all?)", e.ConsoleLog)
	default:
		fmt.Fprintf(&b, "; last lines of the console log %s:", e.ConsoleLog)
		for _, l := range e.Console {
			b.WriteString("\n    | ")
			b.WriteString(l)
		}
	}
	return b.String()
}

// Unwrap returns the last attempt's error.
func (e *WaitTimeoutError) Unwrap() error { return e.Last }

// Is makes errors.Is(err, ErrWaitTimeout) true.
func (e *WaitTimeoutError) Is(target error) bool { return target == ErrWaitTimeout }

// WaitForSSH dials t until it answers and returns the connected client.
// It retries every 100 ms for the first 30 s (a booting machine is noticed
// as soon as it answers; a refused attempt through a hypervisor's port
// forward costs next to nothing), then with a pause growing up to 2 s,
// until opts.Timeout,
// then fails with *WaitTimeoutError. A changed host key fails at once,
// and so does the end of ctx (with ctx's error).
func WaitForSSH(ctx context.Context, t Target, opts WaitOptions) (*Client, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultWaitTimeout
	}
	start := time.Now()
	deadline := start.Add(timeout)
	pause := 100 * time.Millisecond
	limit := firstAttemptLimit
	attempts := 0
	var last error
	for {
		attempts++
		actx, cancel := context.WithDeadline(ctx, deadline)
		actx, cancel2 := context.WithTimeout(actx, limit)
		c, err := Dial(actx, t)
		cancel2()
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// Slow to answer rather than refusing: give the next attempt
			// longer (a busy host under emulation hands shakes slowly).
			limit = min(limit*2, 30*time.Second)
		}
		if err == nil {
			return c, nil
		}
		last = err
		if errors.Is(err, ErrHostKeyChanged) {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wait for ssh to %s: %w", t, context.Cause(ctx))
		}
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		timer := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("wait for ssh to %s: %w", t, context.Cause(ctx))
		case <-timer.C:
		}
		if time.Since(start) > quickPolling {
			pause = min(pause*2, 2*time.Second)
		}
		if time.Now().After(deadline) {
			break
		}
	}
	e := &WaitTimeoutError{Target: t.String(), Waited: time.Since(start), Attempts: attempts, Last: last, ConsoleLog: opts.ConsoleLog}
	if opts.ConsoleLog != "" {
		n := opts.ConsoleLines
		if n <= 0 {
			n = 15
		}
		e.Console, e.ConsoleErr = TailLines(opts.ConsoleLog, n)
	}
	return nil, e
}

// tailBytes is how much of the end of a log TailLines reads.
const tailBytes = 64 << 10

// TailLines returns the last n non-blank lines of the file at path, with
// terminal escape sequences and other control characters removed (serial
// consoles are full of them).
func TailLines(path string, n int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(st.Size()-tailBytes, 0)
	data, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, err
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		// A carriage return redraws the line: keep what was drawn last.
		if i := strings.LastIndex(strings.TrimRight(l, "\r"), "\r"); i >= 0 {
			l = l[i+1:]
		}
		l = strings.TrimSpace(cleanConsole(l))
		if l != "" {
			lines = append(lines, l)
		}
	}
	if off > 0 && len(lines) > 0 {
		lines = lines[1:] // the first one is probably cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines, nil
}

// cleanConsole drops ANSI escape sequences and control characters.
func cleanConsole(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x1b: // ESC: skip a CSI "ESC [ ... final" or a two-byte sequence
			if i+1 < len(s) && s[i+1] == '[' {
				i += 2
				for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
					i++
				}
			} else {
				i++
			}
		case c == '\t':
			b.WriteByte(' ')
		case c < 0x20 || c == 0x7f:
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
