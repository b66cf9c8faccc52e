package sshutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// DefaultHandshakeTimeout bounds the TCP connect plus SSH handshake when
// the caller's context has no earlier deadline.
const DefaultHandshakeTimeout = 20 * time.Second

// Target says where a machine's SSH server is, as whom to log in and how
// to check the server's identity.
type Target struct {
	Addr     string    // host:port
	User     string    // "root" on berth-os
	Key      *KeyPair  // the client key
	HostKeys *HostKeys // the pinned host key; required
}

func (t Target) String() string { return t.User + "@" + t.Addr }

func (t Target) validate() error {
	var bad []string
	if t.Addr == "" {
		bad = append(bad, "no address")
	} else if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		bad = append(bad, fmt.Sprintf("address %q is not host:port", t.Addr))
	}
	if t.User == "" {
		bad = append(bad, "no user")
	}
	if t.Key == nil || t.Key.Signer == nil {
		bad = append(bad, "no key")
	}
	if t.HostKeys == nil || t.HostKeys.Path == "" {
		bad = append(bad, "no host key file")
	}
	if len(bad) > 0 {
		return fmt.Errorf("ssh target %s: %s", t, strings.Join(bad, ", "))
	}
	return nil
}

// Client is one SSH connection to a machine. It is safe for concurrent
// use: every Run, Shell, Stream and SFTP call opens its own channel on the
// same connection.
type Client struct {
	target Target
	conn   *ssh.Client

	sessions chan struct{} // one token per open command session (MaxOpenSessions)

	// exclusive is set for servers that must run one session per
	// connection (see oneSessionPerConn): each session then takes a
	// connection of its own from idle, or dials one.
	exclusive bool
	dialMu    sync.Mutex // held while dialling another connection
	poolMu    sync.Mutex
	idle      []*ssh.Client       // connections without a session
	load      map[*ssh.Client]int // open sessions per connection (servers with several per connection)
	warm      int                 // idle connections kept ready (KeepWarm)
	warming   bool                // a warm-up dial is under way
	all       []*ssh.Client       // every connection, closed by Close

	sftpMu      sync.Mutex
	sftp        *sftp.Client
	sftpSession *ssh.Session
}

// Dial connects to t and authenticates with t.Key, checking (or, at first
// contact, pinning) the host key through t.HostKeys. ctx bounds the TCP
// connect and the handshake; DefaultHandshakeTimeout applies when ctx has
// no earlier deadline. A changed host key fails with *HostKeyChangedError.
func Dial(ctx context.Context, t Target) (*Client, error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultHandshakeTimeout)
	defer cancel()

	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("ssh to %s: %w", t, err)
	}
	return handshake(ctx, t, nc)
}

// handshake makes an SSH client of nc, connected to t, within ctx; nc is
// closed when it fails.
func handshake(ctx context.Context, t Target, nc net.Conn) (*Client, error) {
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	// Closing the connection when ctx ends is what interrupts a handshake
	// stuck on a server that accepted TCP but never speaks.
	stop := context.AfterFunc(ctx, func() { nc.Close() })

	cfg := &ssh.ClientConfig{
		User:              t.User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(t.Key.Signer)},
		HostKeyCallback:   t.HostKeys.Callback(),
		HostKeyAlgorithms: t.HostKeys.Algorithms(),
		ClientVersion:     "SSH-2.0-berth",
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, t.Addr, cfg)
	if !stop() {
		// ctx ended during the handshake and the connection is closed.
		if c != nil {
			c.Close()
		}
		nc.Close()
		return nil, fmt.Errorf("ssh to %s: handshake: %w", t, context.Cause(ctx))
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("ssh to %s: %w", t, explainHandshake(err, t))
	}
	nc.SetDeadline(time.Time{})
	conn := ssh.NewClient(c, chans, reqs)
	client := &Client{target: t, conn: conn, sessions: make(chan struct{}, MaxOpenSessions),
		all: []*ssh.Client{conn}, load: map[*ssh.Client]int{}}
	if oneSessionPerConn(string(conn.ServerVersion())) {
		client.exclusive = true
		client.idle = []*ssh.Client{conn}
	}
	return client, nil
}

// explainHandshake adds the next step to errors users can fix.
func explainHandshake(err error, t Target) error {
	var changed *HostKeyChangedError
	if errors.As(err, &changed) {
		return changed // its message already says what to do
	}
	if strings.Contains(err.Error(), "unable to authenticate") {
		return fmt.Errorf("the server refused key %s for user %q (is its public half in the machine's authorized_keys?): %w",
			t.Key.Path, t.User, err)
	}
	return err
}

// Target returns what c is connected to.
func (c *Client) Target() Target { return c.target }

// Conn returns the first underlying connection, for what this package
// does not wrap (port forwards, requests).
func (c *Client) Conn() *ssh.Client { return c.conn }

// Close closes the SFTP session, if any, and the connections.
func (c *Client) Close() error {
	c.sftpMu.Lock()
	if c.sftp != nil {
		c.sftp.Close()
		c.sftpSession.Close()
		c.sftp, c.sftpSession = nil, nil
	}
	c.sftpMu.Unlock()
	c.poolMu.Lock()
	for _, conn := range c.all {
		if conn != c.conn {
			conn.Close()
		}
	}
	c.all, c.idle = nil, nil
	c.poolMu.Unlock()
	return c.conn.Close()
}

// Wait blocks until the first connection ends and returns why.
func (c *Client) Wait() error { return c.conn.Wait() }
