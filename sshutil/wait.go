package sshutil

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

// firstAttemptLimit bounds WaitForSSH's first attempts; each attempt that
// runs out doubles it for the next ones. A hypervisor's port forward
// accepts the connection before the guest listens and, while the guest has
// no address yet, holds it as long as its SYNs go unanswered (QEMU's user
// network retries them after 1 s, 3 s, 7 s...): such an attempt hangs
// until its limit even though the guest answers meanwhile.
const firstAttemptLimit = 2 * time.Second

// overlapEvery is how often WaitForSSH starts another attempt while
// earlier ones hang, and maxInFlight how many may hang at once: the
// attempt made after the guest listens gets through at once instead of
// waiting for the hung ones to run out.
const (
	overlapEvery = 250 * time.Millisecond
	maxInFlight  = 8
)

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
// A refused attempt is retried after 100 ms for the first 30 s (a booting
// machine is noticed as soon as it answers; a refused attempt through a
// hypervisor's port forward costs next to nothing), then after a pause
// growing up to 2 s. An attempt that hangs does not hold up the next: a
// new one starts every 250 ms beside it (at most 8 at once), and the
// first to connect wins. It fails with *WaitTimeoutError at opts.Timeout;
// a changed host key fails at once, and so does the end of ctx (with
// ctx's error).
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
	actx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	type result struct {
		c   *Client
		err error
	}
	results := make(chan result)
	// One handshake at a time: attempts that find the server answering
	// together would each cost the machine a key exchange.
	handshakes := make(chan struct{}, 1)
	inFlight := 0
	// Cancelling actx ends the attempts still running; what they bring
	// is closed.
	defer func() {
		cancel()
		for range inFlight {
			if r := <-results; r.c != nil {
				r.c.Close()
			}
		}
	}()
	pause := 100 * time.Millisecond
	limit := firstAttemptLimit
	attempts := 0
	next := start // when the next attempt may start
	var last error
	timer := time.NewTimer(0)
	defer timer.Stop()
wait:
	for {
		now := time.Now()
		if inFlight < maxInFlight && !now.Before(next) && now.Before(deadline) {
			attempts++
			inFlight++
			go func(limit time.Duration) {
				c, err := attempt(actx, t, limit, handshakes)
				if errors.Is(err, context.DeadlineExceeded) && actx.Err() == nil {
					err = &attemptTimeout{err}
				}
				results <- result{c, err}
			}(limit)
			next = now.Add(overlapEvery)
		}
		var launch <-chan time.Time // when another attempt may start
		switch {
		case inFlight >= maxInFlight:
		case time.Now().Before(deadline):
			timer.Reset(max(time.Until(next), time.Millisecond))
			launch = timer.C
		case inFlight == 0:
			break wait
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for ssh to %s: %w", t, context.Cause(ctx))
		case <-launch:
			continue
		case r := <-results:
			inFlight--
			if r.err == nil {
				return r.c, nil
			}
			last = r.err
			if errors.Is(r.err, ErrHostKeyChanged) {
				return nil, r.err
			}
			var slow *attemptTimeout
			if errors.As(r.err, &slow) {
				// Slow to answer rather than refusing: give the next
				// attempts longer (a busy host under emulation hands
				// shakes slowly).
				last = slow.err
				limit = min(limit*2, 30*time.Second)
				continue
			}
			// Refused: try again soon.
			if soon := time.Now().Add(pause); soon.Before(next) {
				next = soon
			}
			if time.Since(start) > quickPolling {
				pause = min(pause*2, 2*time.Second)
			}
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

// attempt is one of WaitForSSH's attempts: a TCP connection that must
// bring the server's banner within limit, then, holding the handshakes
// token, the SSH handshake, also within limit. An attempt that waits for
// the token when WaitForSSH has its client ends there, before its server
// spends a key exchange on it.
func attempt(ctx context.Context, t Target, limit time.Duration, handshakes chan struct{}) (*Client, error) {
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(pctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", t, err)
	}
	stop := context.AfterFunc(pctx, func() { nc.Close() })
	banner := make([]byte, 4)
	_, err = io.ReadFull(nc, banner)
	if !stop() {
		nc.Close()
		return nil, fmt.Errorf("ssh to %s: waiting for the server's banner: %w", t, context.Cause(pctx))
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ssh to %s: waiting for the server's banner: %w", t, err)
	}
	select {
	case handshakes <- struct{}{}:
		defer func() { <-handshakes }()
	case <-ctx.Done():
		nc.Close()
		return nil, fmt.Errorf("ssh to %s: %w", t, context.Cause(ctx))
	}
	hctx, hcancel := context.WithTimeout(ctx, limit)
	defer hcancel()
	return handshake(hctx, t, &bannerConn{Conn: nc, banner: banner})
}

// bannerConn is a connection whose first bytes were read already.
type bannerConn struct {
	net.Conn
	banner []byte
}

func (c *bannerConn) Read(p []byte) (int, error) {
	if len(c.banner) > 0 {
		n := copy(p, c.banner)
		c.banner = c.banner[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// attemptTimeout is an attempt that ran out of its time limit.
type attemptTimeout struct{ err error }

func (e *attemptTimeout) Error() string { return e.err.Error() }
func (e *attemptTimeout) Unwrap() error { return e.err }

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
