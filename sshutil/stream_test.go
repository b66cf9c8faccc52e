//go:build linux

package sshutil_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/sshutil"
)

func TestStreamIsAHalfClosableConn(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		// Like `berth-agent dial-stdio`: echo what comes in, then say
		// goodbye on stdout once stdin ends, and something on stderr.
		sc, err := c.Stream(ctx, "sed -u 's/^/echo: /'; echo bye; echo done-on-stderr >&2; exit 7")
		if err != nil {
			t.Fatal(err)
		}
		defer sc.Close()
		var conn net.Conn = sc
		r := bufio.NewReader(conn)
		for _, line := range []string{"one", "two"} {
			if _, err := io.WriteString(conn, line+"\n"); err != nil {
				t.Fatal(err)
			}
			got, err := r.ReadString('\n')
			if err != nil || got != "echo: "+line+"\n" {
				t.Fatalf("read %q, %v; want the echo of %q", got, err, line)
			}
		}
		// Half-close: the command sees EOF and its last words still arrive.
		if err := sc.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(r)
		if err != nil || string(rest) != "bye\n" {
			t.Errorf("after CloseWrite read %q, %v; want \"bye\\n\" then EOF", rest, err)
		}
		var ee *sshutil.ExitError
		if err := sc.Wait(); !errors.As(err, &ee) || ee.Status != 7 {
			t.Errorf("Wait = %v, want exit status 7", err)
		}
		if got := sc.Stderr(); got != "done-on-stderr\n" {
			t.Errorf("Stderr = %q", got)
		}
		if sc.LocalAddr() == nil || !strings.HasPrefix(sc.RemoteAddr().String(), "127.0.0.1:") {
			t.Errorf("addresses = %v, %v", sc.LocalAddr(), sc.RemoteAddr())
		}
	})
}

func TestStreamDeadlinesAndClose(t *testing.T) {
	_, c := connect(t, "openssh")
	sc, err := c.Stream(testContext(t), "cat")
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	buf := make([]byte, 10)

	sc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	if _, err := sc.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past the deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("deadline hit after %s, want about 200ms", d)
	}
	// Clearing the deadline makes the stream usable again.
	sc.SetReadDeadline(time.Time{})
	if _, err := sc.Write([]byte("x\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := sc.Read(buf); err != nil || string(buf[:n]) != "x\n" {
		t.Errorf("Read after clearing the deadline = %q, %v", buf[:n], err)
	}
	// A deadline that is extended while a Read waits applies to that Read.
	sc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	// The sleeps measure time: the Read waits when the deadline moves,
	// and the answer comes after the first deadline passed.
	go func() {
		time.Sleep(20 * time.Millisecond)
		sc.SetReadDeadline(time.Now().Add(time.Second))
		time.Sleep(300 * time.Millisecond)
		sc.Write([]byte("late\n"))
	}()
	if n, err := sc.Read(buf); err != nil || string(buf[:n]) != "late\n" {
		t.Errorf("Read with an extended deadline = %q, %v; want \"late\\n\"", buf[:n], err)
	}
	// Close unblocks a pending Read.
	sc.SetReadDeadline(time.Time{})
	go func() {
		time.Sleep(100 * time.Millisecond) // time passing: the Read waits by then
		sc.Close()
	}()
	if _, err := sc.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read during Close = %v, want net.ErrClosed", err)
	}
	if _, err := sc.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
}

// Streams left open (idle HTTP connections to the agent) do not block
// other sessions, on dropbear either, where each session gets a
// connection of its own.
func TestOpenStreamsDoNotBlockCommands(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		var streams []*sshutil.StreamConn
		for range 3 {
			sc, err := c.Stream(ctx, "cat")
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			streams = append(streams, sc)
		}
		if out, err := c.Output(ctx, "echo beside-streams"); err != nil || string(out) != "beside-streams\n" {
			t.Errorf("command beside open streams: %q, %v", out, err)
		}
		if _, err := c.SFTP(ctx); err != nil {
			t.Errorf("SFTP beside open streams: %v", err)
		}
		for i, sc := range streams {
			io.WriteString(sc, "ping\n")
			buf := make([]byte, 5)
			if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "ping\n" {
				t.Errorf("stream %d: %q, %v", i, buf, err)
			}
		}
	})
}

// TestManyOpenStreams opens more streams than one connection holds
// sessions (a host agent relays each docker client connection as one):
// every one works, on OpenSSH through more connections, on dropbear one
// connection each.
func TestManyOpenStreams(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		_, c := connect(t, kind)
		ctx := testContext(t)
		n := 2*sshutil.MaxSessions + 3
		streams := make([]*sshutil.StreamConn, 0, n)
		for i := range n {
			sc, err := c.Stream(ctx, "cat")
			if err != nil {
				t.Fatalf("stream %d of %d: %v", i+1, n, err)
			}
			defer sc.Close()
			streams = append(streams, sc)
		}
		for i, sc := range streams {
			io.WriteString(sc, "ping\n")
			buf := make([]byte, 5)
			if _, err := io.ReadFull(sc, buf); err != nil || string(buf) != "ping\n" {
				t.Errorf("stream %d: %q, %v", i, buf, err)
			}
		}
		for _, sc := range streams {
			sc.Close()
		}
		if out, err := c.Output(ctx, "echo after"); err != nil || string(out) != "after\n" {
			t.Errorf("a command after the streams closed: %q, %v", out, err)
		}
	})
}
