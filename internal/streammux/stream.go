package streammux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// errWriteClosed is the error of a Write after CloseWrite.
var errWriteClosed = errors.New("write after CloseWrite")

// Stream is one stream of a session, as a net.Conn. CloseWrite ends what
// it sends (the other end reads EOF) while it can still read; Close ends
// it both ways, aborting it unless both ends had finished writing.
type Stream struct {
	s      *Session
	id     uint32
	opened chan error // clients: the server's answer to the open

	wmu sync.Mutex // one Write or CloseWrite at a time

	mu      sync.Mutex
	changed chan struct{} // closed and made again on every change below
	buf     []byte        // received, not yet read
	rfin    bool          // the other end writes no more
	unacked int           // read bytes not yet granted back as credit
	credit  int           // bytes this end may still send
	wfin    bool          // CloseWrite was called
	closed  bool          // Close was called
	// connected: the server answered the client's open (clients only)
	connected bool
	err       error     // reset by the other end, or the session ended
	rdl       time.Time // read deadline
	wdl       time.Time // write deadline
}

func newStream(s *Session, id uint32) *Stream {
	return &Stream{s: s, id: id, credit: window, changed: make(chan struct{})}
}

// notify wakes whoever waits on the stream; st.mu is held.
func (st *Stream) notify() {
	close(st.changed)
	st.changed = make(chan struct{})
}

// wait releases st.mu until the stream changes or the deadline dl passes,
// and takes it again.
func (st *Stream) wait(dl time.Time) {
	ch := st.changed
	st.mu.Unlock()
	defer st.mu.Lock()
	if dl.IsZero() {
		<-ch
		return
	}
	t := time.NewTimer(time.Until(dl))
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}

func expired(dl time.Time) bool { return !dl.IsZero() && !time.Now().Before(dl) }

// Read reads what the other end wrote; io.EOF once it closed its write
// side and everything was read. Bytes received before a reset are read
// before the reset's error, and a reset after the other end's half-close
// leaves its EOF.
func (st *Stream) Read(p []byte) (int, error) {
	st.mu.Lock()
	for {
		switch {
		case st.closed:
			st.mu.Unlock()
			return 0, net.ErrClosed
		case len(st.buf) > 0:
			n := copy(p, st.buf)
			st.buf = st.buf[n:]
			st.unacked += n
			grant := 0
			if st.unacked >= window/2 && !st.rfin && st.err == nil {
				grant, st.unacked = st.unacked, 0
			}
			st.mu.Unlock()
			if grant > 0 {
				st.s.sendCredit(st.id, grant)
			}
			return n, nil
		case st.rfin:
			st.mu.Unlock()
			return 0, io.EOF
		case st.err != nil:
			err := st.err
			st.mu.Unlock()
			return 0, err
		case expired(st.rdl):
			st.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		st.wait(st.rdl)
	}
}

// Write sends p, waiting while the other end's window is full.
func (st *Stream) Write(p []byte) (int, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	written := 0
	for len(p) > 0 {
		st.mu.Lock()
		for st.credit == 0 && !st.closed && !st.wfin && st.err == nil && !expired(st.wdl) {
			st.wait(st.wdl)
		}
		var err error
		switch {
		case st.closed:
			err = net.ErrClosed
		case st.wfin:
			err = errWriteClosed
		case st.err != nil:
			err = st.err
		case st.credit == 0:
			err = os.ErrDeadlineExceeded
		}
		n := min(len(p), st.credit, maxPayload)
		st.credit -= n
		st.mu.Unlock()
		if err != nil {
			return written, err
		}
		if err := st.s.send(frameData, st.id, p[:n]); err != nil {
			return written, err
		}
		written += n
		p = p[n:]
	}
	return written, nil
}

// CloseWrite tells the other end that this end writes no more; reading
// goes on.
func (st *Stream) CloseWrite() error {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	switch {
	case st.closed:
		st.mu.Unlock()
		return net.ErrClosed
	case st.err != nil:
		err := st.err
		st.mu.Unlock()
		return err
	case st.wfin:
		st.mu.Unlock()
		return nil
	}
	st.wfin = true
	done := st.rfin
	st.mu.Unlock()
	if done {
		st.s.forget(st.id)
	}
	return st.s.send(frameFin, st.id, nil)
}

// Close ends the stream: reads and writes fail with net.ErrClosed, and
// the other end's with a reset unless both ends had finished writing.
func (st *Stream) Close() error {
	st.mu.Lock()
	if st.closed {
		st.mu.Unlock()
		return nil
	}
	st.closed = true
	clean := (st.wfin && st.rfin) || st.err != nil
	st.buf = nil
	st.notify()
	st.mu.Unlock()
	st.s.forget(st.id)
	if !clean {
		st.s.send(frameReset, st.id, nil)
	}
	return nil
}

// receive takes data the other end sent.
func (st *Stream) receive(p []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case st.rfin:
		return fmt.Errorf("data on stream %d after its end", st.id)
	case len(st.buf)+len(p) > window:
		return fmt.Errorf("stream %d overran its window", st.id)
	case st.closed || st.err != nil:
		return nil // in flight when it ended here
	}
	st.buf = append(st.buf, p...)
	st.notify()
	return nil
}

func (st *Stream) receiveFin() {
	st.mu.Lock()
	st.rfin = true
	done := st.wfin
	st.notify()
	st.mu.Unlock()
	if done {
		st.s.forget(st.id)
	}
}

func (st *Stream) addCredit(n int) {
	st.mu.Lock()
	st.credit += n
	st.notify()
	st.mu.Unlock()
}

// abort ends the stream with err: the other end reset it, or the session
// ended.
func (st *Stream) abort(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.notify()
	st.mu.Unlock()
	st.s.forget(st.id)
	if st.opened != nil {
		select {
		case st.opened <- err:
		default:
		}
	}
}

// SetDeadline sets the read and write deadlines.
func (st *Stream) SetDeadline(t time.Time) error {
	st.mu.Lock()
	st.rdl, st.wdl = t, t
	st.notify()
	st.mu.Unlock()
	return nil
}

// SetReadDeadline makes pending and future Reads fail with
// os.ErrDeadlineExceeded after t; a zero t means none.
func (st *Stream) SetReadDeadline(t time.Time) error {
	st.mu.Lock()
	st.rdl = t
	st.notify()
	st.mu.Unlock()
	return nil
}

// SetWriteDeadline makes pending and future Writes fail with
// os.ErrDeadlineExceeded after t, when they wait for the other end's
// window; a zero t means none.
func (st *Stream) SetWriteDeadline(t time.Time) error {
	st.mu.Lock()
	st.wdl = t
	st.notify()
	st.mu.Unlock()
	return nil
}

// Addr names a stream.
type Addr struct{ ID uint32 }

// Network is "streammux".
func (Addr) Network() string { return "streammux" }

func (a Addr) String() string { return fmt.Sprintf("stream %d", a.ID) }

// LocalAddr names the stream.
func (st *Stream) LocalAddr() net.Addr { return Addr{st.id} }

// RemoteAddr names the stream.
func (st *Stream) RemoteAddr() net.Addr { return Addr{st.id} }

var _ net.Conn = (*Stream)(nil)
