package qemu

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// runner runs one external program. The driver holds one runner for
// qemu-img and one for qemu-system; tests replace them to check command
// lines without QEMU.
type runner interface {
	// Run runs the program with args and returns its standard output. A
	// failure carries the program's standard error.
	Run(ctx context.Context, args ...string) ([]byte, error)
}

// program is the real runner: a binary found on PATH or given as a path.
type program struct {
	name string // as configured: "qemu-img" or a path
	hint string // what to install when the binary is missing
}

// path finds the binary or says what to install.
func (p program) path() (string, error) {
	path, err := exec.LookPath(p.name)
	if err != nil {
		return "", &MissingError{Program: p.name, Hint: p.hint}
	}
	return path, nil
}

func (p program) Run(ctx context.Context, args ...string) ([]byte, error) {
	path, err := p.path()
	if err != nil {
		return nil, err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	// A daemonized QEMU closes the pipes it inherited; WaitDelay bounds
	// the wait should a child ever keep them open.
	cmd.WaitDelay = 2 * time.Second
	err = cmd.Run()
	if err != nil && ctx.Err() != nil {
		// Killed because ctx ended: say so, so that callers see
		// context.Canceled (Ctrl-C) or DeadlineExceeded.
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if err != nil {
		return stdout.Bytes(), &RunError{Program: p.name, Args: args, Err: err, Stderr: strings.TrimSpace(stderr.String())}
	}
	return stdout.Bytes(), nil
}

// RunError is a failed run of qemu-img or qemu-system, with what it said.
type RunError struct {
	Program string
	Args    []string
	Err     error
	Stderr  string
}

func (e *RunError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Program, e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// ExitCode returns the program's exit status, or -1 when it did not exit
// on its own (killed, not started).
func (e *RunError) ExitCode() int {
	var ee *exec.ExitError
	if errors.As(e.Err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// MissingError says that a QEMU program is not installed and how to
// install it on this host.
type MissingError struct {
	Program string
	Hint    string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s not found: %s", e.Program, e.Hint)
}
