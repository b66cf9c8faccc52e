package hostagent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/berthvm/berth/internal/agentclient"
)

// dialFunc opens one stream to the machine's agent.
type dialFunc func(ctx context.Context) (net.Conn, error)

// serve accepts connections on ln until it is closed and relays each one
// to a stream that dial opens. A panic in one connection's relay is
// logged and ends only that connection.
func serve(ctx context.Context, ln net.Listener, dial dialFunc, log *slog.Logger) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				continue
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					log.Error("relay panicked", "panic", r, "stack", string(debug.Stack()))
					c.Close()
				}
			}()
			relayConn(ctx, c, dial, log)
		}()
	}
}

// halfCloser is a connection whose write side closes alone.
type halfCloser interface{ CloseWrite() error }

// relayConn copies c to and from a new agent stream until both sides are
// done, passing half-closes through, so that attach and exec streams that
// end their input keep their output.
func relayConn(ctx context.Context, c net.Conn, dial dialFunc, log *slog.Logger) {
	defer c.Close()
	up, err := dial(ctx)
	if err != nil {
		log.Warn("reach the agent", "err", err)
		writeUnavailable(c, err)
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if hc, ok := dst.(halfCloser); ok {
			hc.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	in := &readNotice{Conn: c, read: make(chan struct{})}
	go pipe(up, in)
	go func() {
		// The agent's end may refuse a stream opened early: the client
		// gets the answer DialStream's error would have given it, once
		// its request was read (else its write would fail first).
		if err := copyOut(c, up); err != nil {
			log.Warn("reach the agent", "err", err)
			select {
			case <-in.read:
			case <-time.After(2 * time.Second):
			}
			writeUnavailableAnswer(c, err)
			c.Close()
		} else if hc, ok := c.(halfCloser); ok {
			hc.CloseWrite()
		} else {
			c.Close()
		}
		done <- struct{}{}
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// copyOut copies the agent's stream up to the client c. It returns the
// error of a stream that failed before it carried anything when that is
// why the agent cannot be reached (an *agentclient.Error), nil otherwise.
func copyOut(c, up net.Conn) error {
	buf := make([]byte, 32<<10)
	n, err := up.Read(buf)
	if n == 0 && err != nil {
		var ae *agentclient.Error
		if errors.As(err, &ae) {
			return err
		}
		return nil
	}
	if _, werr := c.Write(buf[:n]); werr != nil || err != nil {
		return nil
	}
	io.CopyBuffer(c, up, buf)
	return nil
}

// readNotice is a connection that tells when something was read from it.
type readNotice struct {
	net.Conn
	once sync.Once
	read chan struct{} // closed after the first read that got data
}

func (r *readNotice) Read(p []byte) (int, error) {
	n, err := r.Conn.Read(p)
	if n > 0 || err != nil {
		r.once.Do(func() { close(r.read) })
	}
	return n, err
}
