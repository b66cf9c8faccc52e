package sshutil

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

// MaxSessions is how many sessions (Run, Shell, Stream, SFTP) a Client
// opens on one connection; more go on another connection to the same
// server. That stays under OpenSSH's limit of 10 sessions per connection.
const MaxSessions = 8

// MaxOpenSessions is how many command sessions a Client keeps open at
// once, over all its connections; more wait for a free one. A host agent
// relays every keep-alive connection of docker and compose clients as one
// session.
const MaxOpenSessions = 128

// maxIdleConns is how many spare connections a Client keeps for servers
// that run one session per connection.
const maxIdleConns = 4

// oneSessionPerConn reports whether a server that sent version must run
// one session per connection. Dropbear from 2022.82 to 2024.85 (Debian 12
// ships 2022.83) kills the whole connection when a session's channel is
// open but its command not yet started while another session's process
// on the same connection exits ("Failed assertion (common-channel.c:705):
// !channel->sent_close", mkj/dropbear#321, fixed in 2024.86). Each
// connection is a dropbear process of its own, so a session alone on its
// connection, opened after the previous one there ended, is safe.
func oneSessionPerConn(version string) bool {
	if !strings.HasPrefix(version, "SSH-2.0-dropbear") {
		return false
	}
	// "SSH-2.0-dropbear_2022.83", maybe followed by a space and comments.
	v, _, _ := strings.Cut(strings.TrimPrefix(version, "SSH-2.0-dropbear_"), " ")
	year, minor, ok := strings.Cut(v, ".")
	y, err1 := strconv.Atoi(year)
	m, err2 := strconv.Atoi(minor)
	return !ok || err1 != nil || err2 != nil || y*100+m < 202486
}

// newSession opens a session once fewer than MaxSessions are open. release
// gives the slot (and on one-session-per-connection servers the session's
// connection) back: call it once the session has ended (see
// waitSession). With keepConn the connection stays with the caller for
// good (the SFTP session) and release frees only the slot.
func (c *Client) newSession(ctx context.Context, keepConn bool) (s *ssh.Session, release func(), err error) {
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for a free session (%d are open): %w", MaxOpenSessions, context.Cause(ctx))
	}
	conn, err := c.sessionConn(ctx)
	if err != nil {
		<-c.sessions
		return nil, nil, err
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			if !keepConn {
				c.putConn(conn)
			}
			<-c.sessions
		})
	}
	// OpenSSH frees a closed session's slot a moment after the close, so a
	// new session right after one ends can be refused: try again briefly.
	pause := 10 * time.Millisecond
	for try := 0; ; try++ {
		s, err = conn.NewSession()
		var oce *ssh.OpenChannelError
		if err == nil || !errors.As(err, &oce) || oce.Reason != ssh.ConnectionFailed || try == 10 {
			break
		}
		select {
		case <-ctx.Done():
			release()
			return nil, nil, fmt.Errorf("open session: %w (%w)", err, context.Cause(ctx))
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
	if err != nil {
		release()
		return nil, nil, fmt.Errorf("open session: %w", err)
	}
	return s, release, nil
}

// sessionConn returns the connection for a new session: the only one, or
// on one-session-per-connection servers an idle one or a new one.
func (c *Client) sessionConn(ctx context.Context) (*ssh.Client, error) {
	if !c.exclusive {
		return c.sharedConn(ctx)
	}
	// One handshake at a time: dropbear drops a client's connections
	// beyond a few unauthenticated ones (MAX_UNAUTH_PER_IP), and a
	// session that ends meanwhile frees a connection.
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	if conn := c.takeIdle(); conn != nil {
		c.warmUp()
		return conn, nil
	}
	defer c.warmUp()
	extra, err := Dial(ctx, c.target)
	if err != nil {
		return nil, fmt.Errorf("another connection (the server runs one session per connection): %w", err)
	}
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if c.all == nil { // closed meanwhile
		extra.conn.Close()
		return nil, errors.New("client closed")
	}
	c.all = append(c.all, extra.conn)
	return extra.conn, nil
}

// sharedConn returns a connection with fewer than MaxSessions sessions,
// dialling another when every one is full, and counts the new session.
func (c *Client) sharedConn(ctx context.Context) (*ssh.Client, error) {
	if conn := c.lessLoaded(); conn != nil {
		return conn, nil
	}
	c.dialMu.Lock()
	defer c.dialMu.Unlock()
	if conn := c.lessLoaded(); conn != nil { // freed while we waited
		return conn, nil
	}
	extra, err := Dial(ctx, c.target)
	if err != nil {
		return nil, fmt.Errorf("another connection (%d sessions are open on each): %w", MaxSessions, err)
	}
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if c.all == nil {
		extra.conn.Close()
		return nil, errors.New("client closed")
	}
	c.all = append(c.all, extra.conn)
	c.load[extra.conn] = 1
	return extra.conn, nil
}

// lessLoaded takes a session slot on a connection that has one free.
func (c *Client) lessLoaded() *ssh.Client {
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	for _, conn := range c.all {
		if c.load[conn] < MaxSessions {
			c.load[conn]++
			return conn
		}
	}
	return nil
}

// KeepWarm keeps n idle connections ready on a one-session-per-connection
// server, dialled in the background as sessions take them, so that a new
// session costs no handshake. For long-lived clients (the host agent); a
// no-op on other servers.
func (c *Client) KeepWarm(n int) {
	c.poolMu.Lock()
	c.warm = min(n, maxIdleConns)
	c.poolMu.Unlock()
	c.warmUp()
}

// warmUp dials one more idle connection in the background when fewer
// than the warm ones are idle; it goes on until there are enough.
func (c *Client) warmUp() {
	c.poolMu.Lock()
	if !c.exclusive || c.warming || c.all == nil || len(c.idle) >= c.warm {
		c.poolMu.Unlock()
		return
	}
	c.warming = true
	c.poolMu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultHandshakeTimeout)
		defer cancel()
		c.dialMu.Lock()
		extra, err := Dial(ctx, c.target)
		c.dialMu.Unlock()
		c.poolMu.Lock()
		c.warming = false
		switch {
		case err != nil:
			c.poolMu.Unlock()
			return // the next session dials as it would have
		case c.all == nil || len(c.idle) >= maxIdleConns:
			c.poolMu.Unlock()
			extra.conn.Close()
			return
		}
		c.all = append(c.all, extra.conn)
		c.idle = append(c.idle, extra.conn)
		c.poolMu.Unlock()
		c.warmUp()
	}()
}

func (c *Client) takeIdle() *ssh.Client {
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	n := len(c.idle)
	if n == 0 {
		return nil
	}
	conn := c.idle[n-1]
	c.idle = c.idle[:n-1]
	return conn
}

// putConn returns a connection whose session ended to the idle ones, or
// closes it when there are enough.
func (c *Client) putConn(conn *ssh.Client) {
	c.poolMu.Lock()
	defer c.poolMu.Unlock()
	if c.all == nil { // closed
		return
	}
	if !c.exclusive {
		// An extra connection goes once its last session has.
		if c.load[conn]--; c.load[conn] > 0 || conn == c.conn {
			return
		}
		delete(c.load, conn)
		c.drop(conn)
		return
	}
	if conn == c.conn || len(c.idle) < maxIdleConns {
		c.idle = append(c.idle, conn)
		return
	}
	c.drop(conn)
}

// drop closes conn and forgets it; the caller holds poolMu.
func (c *Client) drop(conn *ssh.Client) {
	conn.Close()
	for i, a := range c.all {
		if a == conn {
			c.all = append(c.all[:i], c.all[i+1:]...)
			break
		}
	}
}

// waitSession waits for the started session s to end, or for ctx to end,
// and turns the outcome into Run's errors. It takes over s and release:
// when ctx ends first it returns at once, and the session's slot is given
// back only once the server has really ended it.
func waitSession(ctx context.Context, s *ssh.Session, release func(), cmd string, t Target) error {
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		s.Close()
		release()
		return exitError(err, cmd, t)
	case <-ctx.Done():
		// OpenSSH refuses signals in root sessions and keeps the channel
		// until the command ends; dropbear kills it.
		s.Signal(ssh.SIGKILL)
		s.Close()
		go func() {
			<-done
			release()
		}()
		return fmt.Errorf("run %q on %s: %w", cmd, t, context.Cause(ctx))
	}
}
