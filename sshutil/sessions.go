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

// MaxSessions is how many command sessions (Run, Shell, Stream) a Client
// keeps open at once; more wait for a free one. With the one SFTP session
// that stays under OpenSSH's limit of 10 sessions per connection.
const MaxSessions = 8

// sessionLimit returns how many command sessions may be open at once on
// a server that sent version. Dropbear from 2022.82 to 2024.85 (Debian 12
// ships 2022.83) kills the whole connection when a session's channel is
// open but its command not yet started while another session's process
// exits ("Failed assertion (common-channel.c:705): !channel->sent_close",
// mkj/dropbear#321, fixed in 2024.86). With one command session at a
// time on such a server, and SFTP opened only while no command runs, no
// process can exit in that window. Separate connections are separate
// dropbear processes, so callers that need parallel sessions there open
// several Clients.
func sessionLimit(version string) int {
	if !strings.HasPrefix(version, "SSH-2.0-dropbear") {
		return MaxSessions
	}
	// "SSH-2.0-dropbear_2022.83", maybe followed by a space and comments.
	v, _, _ := strings.Cut(strings.TrimPrefix(version, "SSH-2.0-dropbear_"), " ")
	year, minor, ok := strings.Cut(v, ".")
	y, err1 := strconv.Atoi(year)
	m, err2 := strconv.Atoi(minor)
	if ok && err1 == nil && err2 == nil && y*100+m >= 202486 {
		return MaxSessions
	}
	return 1 // affected, or a dropbear whose version cannot be read
}

// newSession opens a session once fewer than the server's limit of
// command sessions are open. release gives the slot back; call it once
// the session has ended (see waitSession).
func (c *Client) newSession(ctx context.Context) (s *ssh.Session, release func(), err error) {
	select {
	case c.sessions <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("wait for a free session (%d are open): %w", cap(c.sessions), context.Cause(ctx))
	}
	var once sync.Once
	release = func() { once.Do(func() { <-c.sessions }) }
	// OpenSSH frees a closed session's slot a moment after the close, so a
	// new session right after one ends can be refused: try again briefly.
	pause := 10 * time.Millisecond
	for try := 0; ; try++ {
		s, err = c.conn.NewSession()
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
