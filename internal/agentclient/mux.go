package agentclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/berthvm/berth/internal/streammux"
	"github.com/berthvm/berth/sshutil"
)

// errNoMux: the agent has no dial-mux (an agent older than it).
var errNoMux = errors.New("the agent has no dial-mux")

// muxSession is a running `berth-agent dial-mux`: its SSH session and the
// stream session on its stdin and stdout.
type muxSession struct {
	sc *sshutil.StreamConn
	s  *streammux.Session
}

// dialMux opens a stream on the dial-mux session, starting the session
// when there is none or the last one ended; with early, without waiting
// for the agent's end to connect it (see earlyStream). It fails with
// errNoMux when the agent has no dial-mux.
func (c *Client) dialMux(ctx context.Context, early bool) (net.Conn, error) {
	ms, err := c.muxSession(ctx)
	if err != nil {
		return nil, err
	}
	if early {
		st, err := ms.s.OpenEarly()
		if err != nil {
			return nil, c.openError(ms, err)
		}
		return &earlyStream{Stream: st, c: c, ms: ms}, nil
	}
	st, err := ms.s.Open(ctx)
	if err != nil {
		return nil, c.openError(ms, err)
	}
	return st, nil
}

// openError is the *Error of a stream of ms that could not be opened.
func (c *Client) openError(ms *muxSession, err error) error {
	var re *streammux.ResetError
	if errors.As(err, &re) {
		// The agent refused the stream: dial-mux says why in dial-stdio's
		// words.
		if ae := c.dialStdioError(err, re.Reason); ae != nil {
			return ae
		}
	}
	if errors.Is(err, streammux.ErrSessionEnded) {
		if ae := c.muxEnded(ms, err); ae != nil {
			return ae
		}
		return &Error{Machine: c.opts.Machine, Stage: StageSSH, Err: err}
	}
	return &Error{Machine: c.opts.Machine, Stage: StageRequest, Err: fmt.Errorf("open a stream to the agent: %w", err)}
}

// earlyStream is a stream used before the agent's end answered its open.
// When the open is refused, or the session ends before the stream got
// anything, Read and Write fail with the *Error that DialStream would
// have returned.
type earlyStream struct {
	*streammux.Stream
	c    *Client
	ms   *muxSession
	read atomic.Bool // something was read (Write asks from another goroutine)
}

func (e *earlyStream) Read(p []byte) (int, error) {
	n, err := e.Stream.Read(p)
	if n > 0 {
		e.read.Store(true)
	}
	return n, e.explain(err)
}

func (e *earlyStream) Write(p []byte) (int, error) {
	n, err := e.Stream.Write(p)
	return n, e.explain(err)
}

func (e *earlyStream) explain(err error) error {
	var re *streammux.ResetError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && re.Refused,
		!e.read.Load() && errors.Is(err, streammux.ErrSessionEnded):
		return e.c.openError(e.ms, err)
	}
	return err
}

// muxSession returns the running dial-mux session, or starts one.
func (c *Client) muxSession(ctx context.Context) (*muxSession, error) {
	c.muxMu.Lock()
	defer c.muxMu.Unlock()
	c.mu.Lock()
	ms := c.mux
	c.mu.Unlock()
	if ms != nil && ms.s.Err() == nil {
		return ms, nil
	}
	if ms != nil {
		ms.s.Close()
	}
	sc, err := c.ssh.Stream(ctx, c.muxCmd)
	if err != nil {
		return nil, &Error{Machine: c.opts.Machine, Stage: StageSSH, Err: err}
	}
	s, err := streammux.Client(ctx, sc)
	if err != nil {
		stderr := exitStderr(sc)
		sc.Close()
		if strings.Contains(stderr, "unknown command") {
			return nil, errNoMux
		}
		if ae := c.dialStdioError(err, stderr); ae != nil {
			return nil, ae
		}
		return nil, &Error{Machine: c.opts.Machine, Stage: StageAgent, Err: fmt.Errorf("start dial-mux: %w", err)}
	}
	ms = &muxSession{sc: sc, s: s}
	c.mu.Lock()
	c.mux = ms
	c.mu.Unlock()
	return ms, nil
}

// muxEnded is the agent-stage *Error that the stderr of the ended mux
// session ms tells of err; nil when it wrote nothing.
func (c *Client) muxEnded(ms *muxSession, err error) *Error {
	return c.dialStdioError(err, exitStderr(ms.sc))
}

// exitStderr waits a moment for the command of sc to end (one that failed
// ends at once) and returns what it wrote to stderr.
func exitStderr(sc *sshutil.StreamConn) string {
	select {
	case <-exited(sc):
	case <-time.After(2 * time.Second):
	}
	return strings.TrimSpace(sc.Stderr())
}
