// Package streammux carries many byte streams over one ordered pipe, such
// as the stdin and stdout of one command run over SSH: the CLI and the
// host agent open every agent stream on one `berth-agent dial-mux`
// session instead of a new SSH session (on dropbear a new SSH connection)
// per stream.
//
// The client opens streams; the server connects each to a dial of its own
// (the agent's socket) and answers, or refuses it with the dial's error.
// Streams half-close (CloseWrite) like TCP, as attach and exec need, and
// each direction has its own flow control (a window of credit), so that a
// stream whose reader is slow never holds up the others. Frames are
// described in frame.go; the server first writes Hello.
package streammux

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
)

// Hello is the line the server writes before any frame: a client that
// reads anything else is not talking to a server of this protocol.
const Hello = "berth-mux/1\n"

// ErrSessionEnded is the error of a stream whose session ended under it.
var ErrSessionEnded = errors.New("stream session ended")

// ResetError is the error of a stream that the other end aborted, or
// refused to open; Reason is what it said (for a refused open, the error
// of its dial).
type ResetError struct {
	Reason string
	// Refused is set when the stream was reset before the server
	// connected it: its open was refused, and nothing sent on it arrived.
	Refused bool
}

func (e *ResetError) Error() string {
	if e.Reason == "" {
		return "stream reset by the other end"
	}
	return "stream reset by the other end: " + e.Reason
}

// Session is one end of a pipe carrying streams.
type Session struct {
	r     io.Reader
	w     io.Writer
	close func() error
	// dial connects a stream the client opened (servers only).
	dial func() (net.Conn, error)

	wmu  sync.Mutex // one frame written at a time
	wbuf []byte

	mu      sync.Mutex
	streams map[uint32]*Stream
	lastID  uint32
	err     error // why the session ended; set once
	done    chan struct{}
	conns   sync.WaitGroup // servers: the relays of open streams
}

func newSession(r io.Reader, w io.Writer, close func() error) *Session {
	return &Session{r: r, w: w, close: close, streams: map[uint32]*Stream{}, done: make(chan struct{})}
}

// Client starts the client end of a session on conn: it reads the
// server's Hello within ctx (closing conn when ctx ends first), then
// serves frames until conn ends or Close.
func Client(ctx context.Context, conn io.ReadWriteCloser) (*Session, error) {
	hello := make([]byte, len(Hello))
	read := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(conn, hello)
		read <- err
	}()
	var err error
	select {
	case err = <-read:
	case <-ctx.Done():
		conn.Close()
		<-read
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("read the mux greeting: %w", err)
	}
	if string(hello) != Hello {
		return nil, fmt.Errorf("read the mux greeting: got %q, want %q", hello, Hello)
	}
	s := newSession(conn, conn, conn.Close)
	go s.readLoop()
	return s, nil
}

// Serve is the server end of a session on r and w: it writes Hello, then
// connects each stream the client opens through dial and relays between
// them until r ends (nil at EOF) or fails. When it returns, every stream
// and every connection dial made is closed.
func Serve(r io.Reader, w io.Writer, dial func() (net.Conn, error)) error {
	s := newSession(r, w, func() error { return nil })
	s.dial = dial
	if _, err := io.WriteString(w, Hello); err != nil {
		return fmt.Errorf("write the mux greeting: %w", err)
	}
	s.readLoop()
	s.conns.Wait()
	if errors.Is(s.err, io.EOF) {
		return nil
	}
	return s.err
}

// Open opens a new stream, waiting within ctx for the server to connect
// it. A stream the server refused fails with *ResetError.
func (s *Session) Open(ctx context.Context) (*Stream, error) {
	st, err := s.OpenEarly()
	if err != nil {
		return nil, err
	}
	select {
	case err := <-st.opened:
		if err != nil {
			st.Close()
			return nil, err
		}
		return st, nil
	case <-ctx.Done():
		st.Close()
		return nil, context.Cause(ctx)
	}
}

// OpenEarly opens a new stream without waiting for the server to connect
// it, saving the round trip: what is written meanwhile waits in the
// server until its dial is done. When the server refuses the stream, its
// Read and Write fail with a *ResetError whose Refused is set.
func (s *Session) OpenEarly() (*Stream, error) {
	// The ids go out in order: the server takes only new ones.
	s.wmu.Lock()
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		s.wmu.Unlock()
		return nil, s.err
	}
	s.lastID++
	st := newStream(s, s.lastID)
	st.opened = make(chan error, 1)
	s.streams[st.id] = st
	s.mu.Unlock()
	err := s.sendLocked(frameOpen, st.id, nil)
	s.wmu.Unlock()
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// Close ends the session and every stream on it.
func (s *Session) Close() error {
	err := s.close()
	s.fail(errors.New("session closed"))
	return err
}

// Done is closed when the session has ended; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err is why the session ended (wrapping ErrSessionEnded), or nil while
// it runs.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// fail ends the session for reason: every stream fails with it.
func (s *Session) fail(reason error) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	s.err = fmt.Errorf("%w: %w", ErrSessionEnded, reason)
	streams := s.streams
	s.streams = map[uint32]*Stream{}
	close(s.done)
	s.mu.Unlock()
	s.close()
	for _, st := range streams {
		st.abort(s.err)
	}
}

// send writes one frame.
func (s *Session) send(typ byte, id uint32, p []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.sendLocked(typ, id, p)
}

// sendLocked is send with wmu held.
func (s *Session) sendLocked(typ byte, id uint32, p []byte) error {
	if err := s.Err(); err != nil {
		return err
	}
	s.wbuf = append(s.wbuf[:0], make([]byte, headerLen)...)
	header{typ: typ, id: id, n: uint32(len(p))}.encode(s.wbuf)
	s.wbuf = append(s.wbuf, p...)
	if _, err := s.w.Write(s.wbuf); err != nil {
		err = fmt.Errorf("write: %w", err)
		go s.fail(err) // fail closes streams, which may wait for wmu
		return fmt.Errorf("%w: %w", ErrSessionEnded, err)
	}
	return nil
}

func (s *Session) sendCredit(id uint32, n int) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(n))
	s.send(frameCredit, id, b[:])
}

// forget drops a stream that takes no more frames.
func (s *Session) forget(id uint32) {
	s.mu.Lock()
	delete(s.streams, id)
	s.mu.Unlock()
}

func (s *Session) lookup(id uint32) *Stream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.streams[id]
}

// readLoop handles frames until the pipe ends or breaks the protocol.
func (s *Session) readLoop() {
	var buf []byte
	for {
		h, p, err := readFrame(s.r, buf)
		if err != nil {
			s.fail(err)
			return
		}
		buf = p[:cap(p)]
		if err := s.handle(h, p); err != nil {
			s.fail(fmt.Errorf("protocol error: %w", err))
			return
		}
	}
}

func (s *Session) handle(h header, p []byte) error {
	if h.typ == frameOpen {
		return s.accept(h.id)
	}
	st := s.lookup(h.id)
	if st == nil {
		return nil // a stream that ended here; the other end learns it
	}
	switch h.typ {
	case frameOpened:
		st.mu.Lock()
		twice := st.opened == nil || st.connected
		st.connected = true
		st.mu.Unlock()
		if twice {
			return fmt.Errorf("stream %d opened twice", h.id)
		}
		select {
		case st.opened <- nil:
		default:
		}
	case frameData:
		return st.receive(p)
	case frameFin:
		st.receiveFin()
	case frameReset:
		st.mu.Lock()
		refused := st.opened != nil && !st.connected
		st.mu.Unlock()
		st.abort(&ResetError{Reason: string(p), Refused: refused})
	case frameCredit:
		if len(p) != 4 {
			return fmt.Errorf("credit frame of %d bytes", len(p))
		}
		st.addCredit(int(binary.BigEndian.Uint32(p)))
	}
	return nil
}

// accept connects a stream the client opened.
func (s *Session) accept(id uint32) error {
	s.mu.Lock()
	if s.dial == nil || id <= s.lastID {
		s.mu.Unlock()
		return fmt.Errorf("unexpected open of stream %d", id)
	}
	s.lastID = id
	st := newStream(s, id)
	s.streams[id] = st
	s.conns.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.conns.Done()
		c, err := s.dial()
		if err != nil {
			st.mu.Lock()
			st.closed = true
			st.mu.Unlock()
			s.forget(id)
			s.send(frameReset, id, []byte(err.Error()))
			return
		}
		if err := s.send(frameOpened, id, nil); err != nil {
			c.Close()
			return
		}
		Join(st, c)
	}()
	return nil
}

// closeWriter is a connection whose write side closes alone.
type closeWriter interface{ CloseWrite() error }

// Join copies a to b and b to a until both directions are done, then
// closes both. The end of a's input (EOF) half-closes b and the other way
// round. A failed read aborts both at once; a failed write ends only its
// direction, so that what the other end still sends arrives whole.
func Join(a, b net.Conn) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(b, a) }()
	go func() { defer wg.Done(); pipe(a, b) }()
	wg.Wait()
	a.Close()
	b.Close()
}

// pipe copies src to dst for Join.
func pipe(dst, src net.Conn) {
	buf := make([]byte, maxPayload)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		switch {
		case err == io.EOF:
			if cw, ok := dst.(closeWriter); !ok || cw.CloseWrite() != nil {
				dst.Close()
			}
			return
		case err != nil:
			src.Close()
			dst.Close()
			return
		}
	}
}
