package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types"
)

// Hijack takes over the connection of an attach or exec-start request. It
// answers "101 UPGRADED" when the client asked for an upgrade (and 200
// otherwise) with the raw-stream (tty) or multiplexed-stream content type,
// and returns the connection. Reads from the returned reader give the
// client's stdin (buffered bytes first); io.EOF means the client
// half-closed. The caller closes conn when the stream ends.
func Hijack(w http.ResponseWriter, r *http.Request, tty bool) (conn net.Conn, stdin io.Reader, err error) {
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("hijack connection: %w", err)
	}
	markHijacked(w)
	ctype := types.MediaTypeMultiplexedStream
	if tty {
		ctype = types.MediaTypeRawStream
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: " + ctype + "\r\n"
	if r.Header.Get("Upgrade") != "" {
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ctype + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
	}
	for _, k := range []string{"Api-Version", "Ostype", "Server"} {
		head += k + ": " + w.Header().Get(k) + "\r\n"
	}
	head += "\r\n"
	if _, err := brw.WriteString(head); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("answer hijacked request: %w", err)
	}
	if err := brw.Flush(); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("answer hijacked request: %w", err)
	}
	return conn, bufferedReader(brw.Reader, conn), nil
}

// bufferedReader reads what the HTTP server already buffered, then conn.
func bufferedReader(br *bufio.Reader, conn net.Conn) io.Reader {
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		return io.MultiReader(bytes.NewReader(bytes.Clone(b)), conn)
	}
	return conn
}

// markHijacked tells the recorders around w that the connection is gone.
func markHijacked(w http.ResponseWriter) {
	for w != nil {
		if rec, ok := w.(*recorder); ok {
			rec.markHijacked()
			w = rec.ResponseWriter
			continue
		}
		return
	}
}

// CloseWrite half-closes conn when it supports it (unix and TCP sockets),
// telling the client the output has ended while it may still send.
func CloseWrite(conn net.Conn) error {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return conn.Close()
}

// Mux frames writes of several streams into one writer as Docker's
// multiplexed stream: an 8-byte header [stream, 0, 0, 0, size as
// big-endian uint32] then the payload. Its writers are safe to use from
// several goroutines.
type Mux struct {
	mu sync.Mutex
	w  io.Writer
}

// NewMux frames into w.
func NewMux(w io.Writer) *Mux { return &Mux{w: w} }

// Stream returns the writer for one stream (stdcopy.Stdout or Stderr).
func (m *Mux) Stream(t stdcopy.StdType) io.Writer {
	return &muxStream{m: m, t: t}
}

type muxStream struct {
	m *Mux
	t stdcopy.StdType
}

// maxFrame keeps frames small enough for clients' buffers.
const maxFrame = 32 * 1024

func (s *muxStream) Write(p []byte) (int, error) {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	written := 0
	for len(p) > 0 {
		n := min(len(p), maxFrame)
		var hdr [8]byte
		hdr[0] = byte(s.t)
		binary.BigEndian.PutUint32(hdr[4:], uint32(n))
		if _, err := s.m.w.Write(hdr[:]); err != nil {
			return written, err
		}
		k, err := s.m.w.Write(p[:n])
		written += k
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}
