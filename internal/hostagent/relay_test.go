//go:build !windows

package hostagent

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/streammux"
)

// echoUpstream is a dial func whose streams echo what they get,
// upper-cased, and end their output when their input ends (as dial-stdio
// does), over unix sockets that half-close.
func echoUpstream(t *testing.T) dialFunc {
	p := filepath.Join(t.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if line != "" {
						c.Write([]byte(strings.ToUpper(line)))
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return func(ctx context.Context) (net.Conn, error) { return net.Dial("unix", p) }
}

func serveTest(t *testing.T, dial dialFunc) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "s.sock")
	ln, err := listenUnix(p)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, dial, slog.New(slog.NewTextHandler(io.Discard, nil))) }()
	t.Cleanup(func() {
		cancel()
		ln.Close()
		if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return p
}

func TestRelayHalfClose(t *testing.T) {
	p := serveTest(t, echoUpstream(t))
	c, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "hello\nworld\n")
	// Ending our input must keep the answer coming (attach, exec).
	c.(*net.UnixConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "HELLO\nWORLD\n" {
		t.Errorf("got %q, want %q", got, "HELLO\nWORLD\n")
	}
}

// TestRelayHalfCloseOverMux: the same through streams of a dial-mux
// session (package streammux), as the host agent relays: the client's
// half-close crosses the relay, the stream and the server's connection.
func TestRelayHalfCloseOverMux(t *testing.T) {
	up := echoUpstream(t)
	a, b := net.Pipe()
	go streammux.Serve(b, b, func() (net.Conn, error) { return up(context.Background()) })
	s, err := streammux.Client(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := serveTest(t, func(ctx context.Context) (net.Conn, error) { return s.Open(ctx) })
	for range 3 {
		c, err := net.Dial("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "hello\nworld\n")
		c.(*net.UnixConn).CloseWrite()
		got, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(got) != "HELLO\nWORLD\n" {
			t.Errorf("got %q, %v; want %q", got, err, "HELLO\nWORLD\n")
		}
	}
}

func TestRelayUnavailable(t *testing.T) {
	p := serveTest(t, func(context.Context) (net.Conn, error) { return nil, errors.New("ssh: connection refused") })
	wantUnavailable(t, p, "connection refused")
}

// wantUnavailable checks that a request to the host agent at p gets a
// 503 whose message names cause.
func wantUnavailable(t *testing.T, p, cause string) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return net.Dial("unix", p)
	}}}
	resp, err := hc.Get("http://berth/_ping")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), cause) {
		t.Errorf("got %d %s, want 503 naming the cause (%s)", resp.StatusCode, body, cause)
	}
}

// refusedStream is an agent stream opened early whose open the agent's
// end refused: it fails as agentclient's early streams do.
type refusedStream struct{ net.Conn }

func (refusedStream) Read([]byte) (int, error)  { return 0, errRefused }
func (refusedStream) Write([]byte) (int, error) { return 0, errRefused }

var errRefused = &agentclient.Error{Machine: "dev", Stage: agentclient.StageAgent, Err: errors.New("the agent is not running"), Hint: "berth provision dev"}

// TestRelayUnavailableEarly: a stream that fails once the request is on
// its way (opened early) gets the same 503 as one whose dial failed.
func TestRelayUnavailableEarly(t *testing.T) {
	p := serveTest(t, func(context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		b.Close()
		return refusedStream{a}, nil
	})
	wantUnavailable(t, p, "the agent is not running")
}

func TestRelayPanicEndsOneConnection(t *testing.T) {
	var calls atomic.Int32
	p := serveTest(t, func(ctx context.Context) (net.Conn, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return echoUpstream(t)(ctx)
	})
	c, err := net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(c) // closed by the panic's recovery
	c.Close()
	c, err = net.Dial("unix", p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "again\n")
	c.(*net.UnixConn).CloseWrite()
	if got, _ := io.ReadAll(c); string(got) != "AGAIN\n" {
		t.Errorf("after a panic: got %q, want %q", got, "AGAIN\n")
	}
}
