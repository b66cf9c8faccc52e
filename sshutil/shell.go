package sshutil

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/term"
)

// ShellOptions says what an interactive session runs and where its
// streams go.
type ShellOptions struct {
	// Command runs instead of the login shell when not empty.
	Command string
	// Stdin, Stdout and Stderr are the user's streams. When Stdin is a
	// terminal the session gets a PTY: Stdin is put in raw mode for the
	// session's life and the PTY follows the terminal's size.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Term is the TERM given to the PTY. Empty means $TERM, else
	// "xterm-256color".
	Term string
	// Resize, when not nil, signals that the terminal's size may have
	// changed. Nil means the platform's own signal (SIGWINCH on unix;
	// a periodic check elsewhere).
	Resize <-chan struct{}
}

// Shell runs an interactive session: a login shell, or opts.Command, with a
// PTY when opts.Stdin is a terminal. It returns like Run: nil on status 0,
// else *ExitError or the error that stopped it.
func (c *Client) Shell(ctx context.Context, opts ShellOptions) error {
	what := opts.Command
	if what == "" {
		what = "shell"
	}
	s, release, err := c.newSession(ctx, false)
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, c.target, err)
	}
	started := false
	defer func() {
		if !started {
			s.Close()
			release()
		}
	}()
	s.Stdin, s.Stdout, s.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	s.Stdout, s.Stderr = shareWriter(s.Stdout, s.Stderr)

	if in, ok := opts.Stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		restore, err := startPTY(ctx, s, in, opts)
		if err != nil {
			return fmt.Errorf("%s on %s: %w", what, c.target, err)
		}
		defer restore()
	}
	if opts.Command == "" {
		err = s.Shell()
	} else {
		err = s.Start(opts.Command)
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w", what, c.target, err)
	}
	started = true
	return waitSession(ctx, s, release, what, c.target)
}

// startPTY asks for a PTY sized like the terminal, puts the terminal in
// raw mode and keeps the PTY's size in step. restore undoes it all.
func startPTY(ctx context.Context, s *ssh.Session, in *os.File, opts ShellOptions) (restore func(), err error) {
	sizeFd := int(in.Fd())
	if out, ok := opts.Stdout.(*os.File); ok && term.IsTerminal(int(out.Fd())) {
		sizeFd = int(out.Fd()) // Windows reports sizes on the output console
	}
	w, h, err := term.GetSize(sizeFd)
	if err != nil {
		w, h = 80, 24
	}
	tname := opts.Term
	if tname == "" {
		tname = os.Getenv("TERM")
	}
	if tname == "" {
		tname = "xterm-256color"
	}
	modes := ssh.TerminalModes{ssh.ECHO: 1, ssh.TTY_OP_ISPEED: 38400, ssh.TTY_OP_OSPEED: 38400}
	if err := s.RequestPty(tname, h, w, modes); err != nil {
		return nil, fmt.Errorf("request pty: %w", err)
	}
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return nil, fmt.Errorf("raw mode on the terminal: %w", err)
	}
	restoreOut := func() {}
	if out, ok := opts.Stdout.(*os.File); ok {
		restoreOut = enableEscapes(out)
	}
	rctx, stop := context.WithCancel(ctx)
	resize := opts.Resize
	if resize == nil {
		resize = watchResize(rctx)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		lastW, lastH := w, h
		for {
			select {
			case <-rctx.Done():
				return
			case _, ok := <-resize:
				if !ok {
					return
				}
				nw, nh, err := term.GetSize(sizeFd)
				if err != nil || (nw == lastW && nh == lastH) {
					continue
				}
				lastW, lastH = nw, nh
				s.WindowChange(nh, nw)
			}
		}
	}()
	return func() {
		stop()
		<-done
		restoreOut()
		term.Restore(int(in.Fd()), state)
	}, nil
}
