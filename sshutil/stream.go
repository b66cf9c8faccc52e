package sshutil

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// StreamConn is a remote command's stdin and stdout as a net.Conn: what is
// written goes to the command's stdin, what it prints is read. CloseWrite
// ends its stdin (half-close) while its output can still be read; Close
// ends the session. The agent client runs `berth-agent dial-mux` (or,
// with older agents, `berth-agent dial-stdio`) this way to reach the
// agent's socket over SSH. Deadlines work as net.Conn documents.
type StreamConn struct {
	cmd     string
	target  Target
	session *ssh.Session
	stdin   io.WriteCloser
	stderr  *tailBuffer
	local   net.Addr
	remote  net.Addr

	chunks chan []byte // stdout, read by a goroutine
	readMu sync.Mutex
	rest   []byte // the unread part of the last chunk
	rerr   error  // the reader goroutine's final error

	writeMu sync.Mutex

	deadlineMu sync.Mutex
	rdeadline  deadline
	wdeadline  deadline

	closeOnce sync.Once
	closed    chan struct{}
	exited    chan struct{} // closed when the command's status is known
	exitErr   error
}

// Stream starts cmd and returns its stdin and stdout as a connection. The
// command's stderr is kept (the last 4 KiB) for error messages: see
// Stderr. ctx bounds only the start; Close ends the command.
func (c *Client) Stream(ctx context.Context, cmd string) (*StreamConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stream %q on %s: %w", cmd, c.target, err)
	}
	s, release, err := c.newSession(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("stream %q on %s: %w", cmd, c.target, err)
	}
	started := false
	defer func() {
		if !started {
			release()
		}
	}()
	stdin, err := s.StdinPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("stream %q on %s: %w", cmd, c.target, err)
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("stream %q on %s: %w", cmd, c.target, err)
	}
	sc := &StreamConn{
		cmd: cmd, target: c.target, session: s, stdin: stdin,
		stderr: &tailBuffer{max: 4 << 10},
		local:  c.conn.LocalAddr(), remote: c.conn.RemoteAddr(),
		chunks: make(chan []byte), closed: make(chan struct{}), exited: make(chan struct{}),
	}
	s.Stderr = sc.stderr
	if err := s.Start(cmd); err != nil {
		s.Close()
		return nil, fmt.Errorf("stream %q on %s: %w", cmd, c.target, err)
	}
	started = true
	go sc.readLoop(stdout)
	go func() {
		sc.exitErr = exitError(s.Wait(), cmd, c.target)
		s.Close()
		release()
		close(sc.exited)
	}()
	return sc, nil
}

func (sc *StreamConn) readLoop(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case sc.chunks <- append([]byte(nil), buf[:n]...):
			case <-sc.closed:
				return
			}
		}
		if err != nil {
			sc.rerr = err
			close(sc.chunks)
			return
		}
	}
}

// Read reads the command's stdout. It returns io.EOF once the command
// closed its stdout.
func (sc *StreamConn) Read(p []byte) (int, error) {
	sc.readMu.Lock()
	defer sc.readMu.Unlock()
	if len(sc.rest) == 0 {
		sc.deadlineMu.Lock()
		expired := sc.rdeadline.wait()
		sc.deadlineMu.Unlock()
		select {
		case chunk, ok := <-sc.chunks:
			if !ok {
				if sc.rerr == io.EOF {
					return 0, io.EOF
				}
				return 0, fmt.Errorf("stream %q on %s: read: %w", sc.cmd, sc.target, sc.rerr)
			}
			sc.rest = chunk
		case <-expired:
			return 0, os.ErrDeadlineExceeded
		case <-sc.closed:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, sc.rest)
	sc.rest = sc.rest[n:]
	return n, nil
}

// Write writes to the command's stdin.
func (sc *StreamConn) Write(p []byte) (int, error) {
	sc.writeMu.Lock()
	defer sc.writeMu.Unlock()
	select {
	case <-sc.closed:
		return 0, net.ErrClosed
	default:
	}
	sc.deadlineMu.Lock()
	expired := sc.wdeadline.wait()
	sc.deadlineMu.Unlock()
	type result struct {
		n   int
		err error
	}
	// An SSH channel write blocks while the remote window is full; the
	// write runs aside so that a deadline can interrupt the wait. A write
	// left running after a deadline finishes before the next one starts.
	done := make(chan result, 1)
	go func() {
		n, err := sc.stdin.Write(p)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return r.n, fmt.Errorf("stream %q on %s: write: %w", sc.cmd, sc.target, r.err)
		}
		return r.n, nil
	case <-expired:
		sc.Close() // a timed-out write leaves the stream in an unknown state
		return 0, os.ErrDeadlineExceeded
	case <-sc.closed:
		return 0, net.ErrClosed
	}
}

// CloseWrite closes the command's stdin; its output can still be read.
func (sc *StreamConn) CloseWrite() error {
	sc.writeMu.Lock()
	defer sc.writeMu.Unlock()
	return sc.stdin.Close()
}

// Close ends the session (the remote command gets a hangup) and unblocks
// pending reads and writes.
func (sc *StreamConn) Close() error {
	sc.closeOnce.Do(func() {
		close(sc.closed)
		sc.stdin.Close()
		sc.session.Close()
	})
	return nil
}

// Wait waits for the command to end and returns like Client.Run.
func (sc *StreamConn) Wait() error {
	<-sc.exited
	return sc.exitErr
}

// Stderr returns the end of what the command wrote to stderr so far.
func (sc *StreamConn) Stderr() string { return sc.stderr.String() }

// LocalAddr is the SSH connection's local address.
func (sc *StreamConn) LocalAddr() net.Addr { return sc.local }

// RemoteAddr is the SSH connection's remote address.
func (sc *StreamConn) RemoteAddr() net.Addr { return sc.remote }

// SetDeadline sets the read and write deadlines.
func (sc *StreamConn) SetDeadline(t time.Time) error {
	sc.SetReadDeadline(t)
	return sc.SetWriteDeadline(t)
}

// SetReadDeadline makes pending and future Reads fail with
// os.ErrDeadlineExceeded after t; a zero t means none.
func (sc *StreamConn) SetReadDeadline(t time.Time) error {
	sc.deadlineMu.Lock()
	defer sc.deadlineMu.Unlock()
	sc.rdeadline.set(t)
	return nil
}

// SetWriteDeadline makes pending and future Writes fail with
// os.ErrDeadlineExceeded after t; a zero t means none.
func (sc *StreamConn) SetWriteDeadline(t time.Time) error {
	sc.deadlineMu.Lock()
	defer sc.deadlineMu.Unlock()
	sc.wdeadline.set(t)
	return nil
}

// deadline is a resettable timer whose channel closes when it expires.
// Its methods are called with StreamConn.deadlineMu held.
type deadline struct {
	timer *time.Timer
	ch    chan struct{} // closed once expired; made on first use
}

func (d *deadline) set(t time.Time) {
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait until its function closed d.ch
	}
	d.timer = nil
	expired := isClosed(d.ch)
	if t.IsZero() || time.Until(t) > 0 {
		if expired {
			d.ch = make(chan struct{})
		}
		if !t.IsZero() {
			ch := d.ch
			d.timer = time.AfterFunc(time.Until(t), func() { close(ch) })
		}
		return
	}
	if !expired {
		close(d.ch)
	}
}

// wait returns a channel that is closed when the deadline passes.
func (d *deadline) wait() <-chan struct{} {
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	return d.ch
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

var _ net.Conn = (*StreamConn)(nil)
