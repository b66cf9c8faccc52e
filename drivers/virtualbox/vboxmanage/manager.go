package vboxmanage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Manager runs VBoxManage commands through a Runner and applies
// VBoxManage's rules to every call:
//   - any stderr line containing "error:" is a failure, even with exit 0;
//   - "The object is not ready" is transient and retried;
//   - calls are serialised host-wide with a file lock, because concurrent
//     VBoxManage calls fail with session-lock errors.
type Manager struct {
	Runner Runner
	// LockPath is the host-wide lock file; empty means DefaultLockPath().
	LockPath string
	// Retries is how often a transient failure is retried (default 5).
	Retries int
	// RetryDelay is the pause between retries (default 100 ms).
	RetryDelay time.Duration
}

// DefaultLockPath is the lock file used when Manager.LockPath is empty.
func DefaultLockPath() string {
	return filepath.Join(os.TempDir(), "berth-vboxmanage.lock")
}

// CommandError is a VBoxManage run that failed.
type CommandError struct {
	Args []string
	Output
}

func (e *CommandError) Error() string {
	if e.Signal != "" {
		return fmt.Sprintf("VBoxManage %s: crashed (signal: %s): %s", strings.Join(e.Args, " "), e.Signal, e.Message())
	}
	return fmt.Sprintf("VBoxManage %s: exit %d: %s", strings.Join(e.Args, " "), e.ExitCode, e.Message())
}

// Message is the gist of what VBoxManage printed on stderr: its error lines
// without the "VBoxManage: error: " prefix, or the last stderr line.
func (e *CommandError) Message() string {
	var msgs []string
	for _, line := range strings.Split(e.Stderr, "\n") {
		if _, after, ok := strings.Cut(line, "error: "); ok {
			msgs = append(msgs, strings.TrimSpace(after))
		}
	}
	if len(msgs) == 0 {
		lines := nonEmptyLines(e.Stderr)
		if len(lines) == 0 {
			return "no error message"
		}
		return lines[len(lines)-1]
	}
	return strings.Join(msgs, "; ")
}

// IsNotFound reports whether err says that VirtualBox does not know the VM.
func IsNotFound(err error) bool {
	return stderrContains(err, "Could not find a registered machine")
}

// IsLocked reports whether err is VirtualBox's session-lock conflict
// ("already locked for a session" / "already locked by a session").
func IsLocked(err error) bool {
	return stderrContains(err, "is already locked for a session") || stderrContains(err, "is already locked by a session")
}

// IsNotReady reports whether err is the transient "The object is not ready".
func IsNotReady(err error) bool {
	return stderrContains(err, "The object is not ready")
}

func stderrContains(err error, s string) bool {
	var ce *CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, s)
}

// failed applies the failure rules to one run.
func failed(out Output) bool {
	return out.ExitCode != 0 || strings.Contains(out.Stderr, "error:")
}

// Run runs VBoxManage with args and returns its stdout.
func (m *Manager) Run(ctx context.Context, args ...string) (string, error) {
	retries, delay := m.Retries, m.RetryDelay
	if retries == 0 {
		retries = 5
	}
	if delay == 0 {
		delay = 100 * time.Millisecond
	}
	for attempt := 0; ; attempt++ {
		out, err := m.runLocked(ctx, args)
		if err != nil {
			return "", err
		}
		if !failed(out) {
			return out.Stdout, nil
		}
		cerr := &CommandError{Args: args, Output: out}
		if !IsNotReady(cerr) || attempt >= retries {
			return "", cerr
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (while retrying: %w)", cerr, ctx.Err())
		case <-time.After(delay):
		}
	}
}

func (m *Manager) runLocked(ctx context.Context, args []string) (Output, error) {
	path := m.LockPath
	if path == "" {
		path = DefaultLockPath()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Output{}, fmt.Errorf("make VBoxManage lock folder: %w", err)
	}
	lk := flock.New(path, flock.SetPermissions(0o600))
	ok, err := lk.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil {
		return Output{}, fmt.Errorf("take VBoxManage lock %s: %w", path, err)
	}
	if !ok {
		return Output{}, fmt.Errorf("take VBoxManage lock %s: %w", path, ctx.Err())
	}
	defer func() { _ = lk.Unlock() }()
	return m.Runner.Run(ctx, args)
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
