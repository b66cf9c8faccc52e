package streammux

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend is a unix socket server whose connections handle serves, the
// stand-in for the agent's socket.
func backend(t *testing.T, handle func(c *net.UnixConn)) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*net.UnixConn))
			}()
		}
	}()
	return sock
}

// session runs Serve on one end of a pipe, dialling dial, and returns the
// client end and a channel with Serve's result.
func session(t *testing.T, dial func() (net.Conn, error)) (*Session, <-chan error) {
	t.Helper()
	a, b := net.Pipe()
	served := make(chan error, 1)
	go func() {
		served <- Serve(b, b, dial)
		b.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := Client(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, served
}

func dialUnix(sock string) func() (net.Conn, error) {
	return func() (net.Conn, error) { return net.Dial("unix", sock) }
}

func open(t *testing.T, s *Session) *Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// echo copies what it reads back, and half-closes once its input ended.
func echo(c *net.UnixConn) {
	io.Copy(c, c)
	c.CloseWrite()
}

// TestStreams: many streams at once, each larger than the window, each
// echoed whole after its writer half-closed.
func TestStreams(t *testing.T) {
	s, _ := session(t, dialUnix(backend(t, echo)))
	const streams, size = 8, 3*window + 123
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for i := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := open(t, s)
			defer st.Close()
			data := make([]byte, size)
			rand.Read(data)
			go func() {
				st.Write(data)
				st.CloseWrite()
			}()
			got, err := io.ReadAll(st)
			if err != nil {
				errs <- fmt.Errorf("stream %d: read: %w", i, err)
				return
			}
			if !bytes.Equal(got, data) {
				errs <- fmt.Errorf("stream %d: got %d bytes back, want the %d written", i, len(got), len(data))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestHalfClose: each end's CloseWrite reaches the other as EOF while
// the other direction goes on, both ways round.
func TestHalfClose(t *testing.T) {
	t.Run("client ends first", func(t *testing.T) {
		// The backend answers only once its input ended, as an attach
		// whose stdin closed goes on printing.
		s, _ := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
			in, _ := io.ReadAll(c)
			fmt.Fprintf(c, "got %q", in)
		})))
		st := open(t, s)
		defer st.Close()
		io.WriteString(st, "input")
		if err := st.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write([]byte("x")); !errors.Is(err, errWriteClosed) {
			t.Errorf("Write after CloseWrite: err = %v, want %v", err, errWriteClosed)
		}
		got, err := io.ReadAll(st)
		if err != nil || string(got) != `got "input"` {
			t.Errorf("read %q, %v; want %q", got, err, `got "input"`)
		}
	})
	t.Run("backend ends first", func(t *testing.T) {
		// The backend says hello and half-closes, then reads.
		got := make(chan string, 1)
		s, _ := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
			io.WriteString(c, "hello")
			c.CloseWrite()
			in, _ := io.ReadAll(c)
			got <- string(in)
		})))
		st := open(t, s)
		defer st.Close()
		out, err := io.ReadAll(st)
		if err != nil || string(out) != "hello" {
			t.Fatalf("read %q, %v; want hello then EOF", out, err)
		}
		if _, err := io.WriteString(st, "after EOF"); err != nil {
			t.Fatalf("write after the backend's half-close: %v", err)
		}
		st.CloseWrite()
		if g := <-got; g != "after EOF" {
			t.Errorf("backend read %q, want %q", g, "after EOF")
		}
	})
}

// TestSlowReader: a stream whose reader does not read holds up neither
// the session nor the other streams.
func TestSlowReader(t *testing.T) {
	sock := backend(t, func(c *net.UnixConn) {
		var cmd [1]byte
		if _, err := io.ReadFull(c, cmd[:]); err != nil {
			return
		}
		if cmd[0] == 'f' { // flood until the stream goes
			buf := make([]byte, 64<<10)
			for {
				if _, err := c.Write(buf); err != nil {
					return
				}
			}
		}
		echo(c)
	})
	s, _ := session(t, dialUnix(sock))
	flood := open(t, s)
	defer flood.Close()
	io.WriteString(flood, "f")
	time.Sleep(100 * time.Millisecond) // the window fills
	for i := range 3 {
		st := open(t, s)
		io.WriteString(st, "e-"+fmt.Sprint(i))
		st.CloseWrite()
		got, err := io.ReadAll(st)
		if err != nil || string(got) != "-"+fmt.Sprint(i) {
			t.Errorf("echo %d beside a full stream: %q, %v", i, got, err)
		}
		st.Close()
	}
	// The flooded stream still reads.
	if n, err := io.ReadFull(flood, make([]byte, 2*window)); err != nil {
		t.Errorf("read the flood: %d bytes, %v", n, err)
	}
}

// TestRefused: a stream the server cannot connect fails to open with the
// server's dial error, and the session goes on.
func TestRefused(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	s, _ := session(t, func() (net.Conn, error) {
		c, err := net.Dial("unix", sock)
		if err != nil {
			return nil, fmt.Errorf("connect to the agent (is it running?): %w", err)
		}
		return c, nil
	})
	for range 2 {
		_, err := s.Open(context.Background())
		var re *ResetError
		if !errors.As(err, &re) || !strings.HasPrefix(re.Reason, "connect to the agent (is it running?): ") {
			t.Errorf("Open = %v, want a *ResetError with the dial error", err)
		}
	}
	if err := s.Err(); err != nil {
		t.Errorf("session ended after a refused stream: %v", err)
	}
}

// TestCloseAborts: Close of a stream whose exchange is not over closes
// the backend's connection; the backend's reads end.
func TestCloseAborts(t *testing.T) {
	ended := make(chan error, 1)
	s, _ := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
		_, err := io.ReadAll(c)
		ended <- err
	})))
	st := open(t, s)
	io.WriteString(st, "partial")
	st.Close()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend's connection stayed open after Close")
	}
	if _, err := st.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: err = %v, want net.ErrClosed", err)
	}
}

// TestResetKeepsData: a backend that answers and closes while the
// client still writes: the client's writes fail, and it reads the answer
// whole.
func TestResetKeepsData(t *testing.T) {
	s, _ := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
		io.WriteString(c, "last words")
	})))
	st := open(t, s)
	defer st.Close()
	var err error
	for i := 0; err == nil && i < 1000; i++ {
		_, err = st.Write(make([]byte, 1024))
		time.Sleep(time.Millisecond)
	}
	var re *ResetError
	if !errors.As(err, &re) {
		t.Errorf("write to a backend that has gone: %v, want a *ResetError", err)
	}
	// EOF, or a reset when the kernel reports the backend's close with
	// unread input as a reset (Linux does for unix sockets).
	got, err := io.ReadAll(st)
	if string(got) != "last words" || (err != nil && !errors.As(err, &re)) {
		t.Errorf("read %q, %v; want the bytes sent before the end, then EOF or a reset", got, err)
	}
}

// TestDeadline: a Read past its deadline fails with
// os.ErrDeadlineExceeded and the stream stays usable.
func TestDeadline(t *testing.T) {
	s, _ := session(t, dialUnix(backend(t, echo)))
	st := open(t, s)
	defer st.Close()
	st.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := st.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
	}
	st.SetReadDeadline(time.Time{})
	io.WriteString(st, "x")
	b := make([]byte, 1)
	if _, err := io.ReadFull(st, b); err != nil || b[0] != 'x' {
		t.Errorf("read after clearing the deadline: %q, %v", b, err)
	}
}

// TestSessionEnd: when the pipe ends, open streams fail with
// ErrSessionEnded, Open fails, and Serve closes its connections and
// returns nil.
func TestSessionEnd(t *testing.T) {
	ended := make(chan struct{})
	s, served := session(t, dialUnix(backend(t, func(c *net.UnixConn) {
		io.ReadAll(c)
		close(ended)
	})))
	st := open(t, s)
	s.Close()
	if _, err := st.Read(make([]byte, 1)); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("Read after the session ended: %v, want ErrSessionEnded", err)
	}
	if _, err := s.Open(context.Background()); !errors.Is(err, ErrSessionEnded) {
		t.Errorf("Open after the session ended: %v, want ErrSessionEnded", err)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v, want nil at the end of its input", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the backend's connection stayed open after the session ended")
	}
}

// TestNotAServer: a client whose other end is not a mux server fails
// with what it read.
func TestNotAServer(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		io.WriteString(b, "berth-agent: unknown command\n")
		b.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := Client(ctx, a); err == nil || !strings.Contains(err.Error(), "greeting") {
		t.Errorf("Client = %v, want a greeting error", err)
	}
}

// TestOpenEarly: what is written on a stream opened early reaches the
// backend whole, though it went out before the server connected the
// stream (the backend accepts only after a delay).
func TestOpenEarly(t *testing.T) {
	sock := backend(t, echo)
	s, _ := session(t, func() (net.Conn, error) {
		time.Sleep(100 * time.Millisecond)
		return net.Dial("unix", sock)
	})
	for range 3 {
		st, err := s.OpenEarly()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(st, "sent before the open was answered\n"); err != nil {
			t.Fatal(err)
		}
		st.CloseWrite()
		got, err := io.ReadAll(st)
		st.Close()
		if err != nil || string(got) != "sent before the open was answered\n" {
			t.Errorf("got %q, %v", got, err)
		}
	}
}

// TestOpenEarlyRefused: a stream opened early that the server refuses
// fails its Read with a *ResetError that says so and carries the dial's
// error.
func TestOpenEarlyRefused(t *testing.T) {
	s, _ := session(t, func() (net.Conn, error) { return nil, errors.New("connect to the agent: no such file") })
	st, err := s.OpenEarly()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(st, "GET /_ping HTTP/1.1\r\n\r\n")
	_, err = st.Read(make([]byte, 10))
	var re *ResetError
	if !errors.As(err, &re) || !re.Refused || !strings.Contains(re.Reason, "no such file") {
		t.Errorf("Read = %v, want a refused *ResetError naming the dial error", err)
	}

}
