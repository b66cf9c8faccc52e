package hostagent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// startWait bounds how long Start waits for a new host agent to listen.
const startWait = 10 * time.Second

// maxLog is the size beyond which a starting host agent begins a new log.
const maxLog = 4 << 20

// Start starts the host agent of the machine in dir as a background
// process running argv (berth's own command line for `berth hostagent
// NAME`), unless one runs already. It returns once the host agent
// listens, with started saying whether it started one. The process
// outlives the caller; its output goes to LogFile.
func Start(ctx context.Context, dir string, argv []string) (started bool, err error) {
	if Running(dir) {
		return false, nil
	}
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if fi, err := os.Stat(filepath.Join(dir, LogFile)); err == nil && fi.Size() > maxLog {
		flags |= os.O_TRUNC // the log of earlier runs goes once it is big
	}
	logf, err := os.OpenFile(filepath.Join(dir, LogFile), flags, 0o600)
	if err != nil {
		return false, fmt.Errorf("start the host agent: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return false, fmt.Errorf("start the host agent: %w", err)
	}
	// The host agent is our child until we exit: Wait reaps it when it
	// ends first. (Release while Wait runs would let Wait's closed pidfd
	// number, reused, reap another child of ours.)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.NewTimer(startWait)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if listening(dir) {
			return true, nil
		}
		select {
		case err := <-exited:
			if Running(dir) { // a host agent started alongside won the lock
				return false, nil
			}
			return false, fmt.Errorf("the host agent exited at once (%v): %s (see %s)", err, lastLine(filepath.Join(dir, LogFile)), filepath.Join(dir, LogFile))
		case <-deadline.C:
			return false, fmt.Errorf("the host agent did not listen within %v (see %s)", startWait, filepath.Join(dir, LogFile))
		case <-ctx.Done():
			return false, ctx.Err()
		case <-tick.C:
		}
	}
}

// WaitReady waits, up to d, until the host agent of the machine in dir
// has reached the machine's agent, and reports whether it has.
func WaitReady(ctx context.Context, dir string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		// The status of the host agent that runs now: one killed
		// leaves its own behind, which a new one replaces soon after it
		// writes its pid file.
		if st, err := ReadStatus(dir); err == nil && st.State == StateReady && st.Pid == pidInFile(dir) {
			return true
		}
		select {
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		case <-tick.C:
		}
	}
}

// pidInFile is the pid in the host agent's PidFile in dir, or 0.
func pidInFile(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// listening reports whether the host agent of the machine in dir accepts
// connections.
func listening(dir string) bool {
	c, err := dialEndpoint(dir, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// Stop ends the host agent of the machine in dir, if one runs: a polite
// signal, then a kill after a while. It returns once the host agent's lock
// is free.
func Stop(ctx context.Context, dir string) error {
	if !Running(dir) {
		cleanup(dir)
		return nil
	}
	b, err := os.ReadFile(filepath.Join(dir, PidFile))
	if err != nil {
		return fmt.Errorf("stop the host agent: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("stop the host agent: bad pid file: %w", err)
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return fmt.Errorf("stop the host agent: %w", err)
	}
	terminate(p)
	if waitFree(ctx, dir, 5*time.Second) {
		return nil
	}
	p.Kill()
	if waitFree(ctx, dir, 5*time.Second) {
		cleanup(dir)
		return nil
	}
	return errors.New("stop the host agent: it still runs after a kill (pid " + strconv.Itoa(pid) + ")")
}

func waitFree(ctx context.Context, dir string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for Running(dir) {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// cleanup removes what a killed host agent left.
func cleanup(dir string) {
	removeSocket(dir)
	os.Remove(filepath.Join(dir, PidFile))
	os.Remove(filepath.Join(dir, StatusFile))
}

func lastLine(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// dialEndpoint connects to the host agent of the machine in dir.
func dialEndpoint(dir string, timeout time.Duration) (net.Conn, error) {
	return dialSocket(SocketPath(dir), timeout)
}
