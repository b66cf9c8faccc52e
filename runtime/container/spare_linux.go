package container

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// spareArg makes a monitor a spare: started ahead of need, it has paid
// the process start-up and waits on fd 3 for the folder of the container
// it is to run ("DIR\n"). Start hands the next container to the spare, so
// that cost is off the start path. A spare whose agent is gone reads EOF
// and exits.
const spareArg = "--spare"

// errSpareGone is a spare monitor that ended before it was given work.
var errSpareGone = errors.New("monitor is gone")

// spareMonitor is a spare monitor process and our end of its socket.
type spareMonitor struct {
	cmd  *exec.Cmd
	sock *os.File
}

// startSpare starts a spare monitor.
func startSpare() (*spareMonitor, error) {
	self, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "monitor"), os.NewFile(uintptr(fds[1]), "monitor")
	defer theirs.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		ours.Close()
		return nil, err
	}
	defer null.Close()
	cmd := &exec.Cmd{
		Path:        self,
		Args:        []string{"berth-agent", monitorCommand, spareArg},
		Env:         []string{"PATH=" + DefaultPath},
		Dir:         "/",
		Stdout:      null,
		Stderr:      null,
		ExtraFiles:  []*os.File{theirs},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		ours.Close()
		return nil, fmt.Errorf("start monitor: %w", err)
	}
	go cmd.Wait()
	return &spareMonitor{cmd: cmd, sock: ours}, nil
}

// assign gives the spare the container in dir and waits until its monitor
// listens on the container's control socket.
func (s *spareMonitor) assign(dir string, timeout time.Duration) error {
	defer s.sock.Close()
	s.sock.SetDeadline(time.Now().Add(timeout))
	if _, err := s.sock.WriteString(dir + "\n"); err != nil {
		s.cmd.Process.Kill()
		return fmt.Errorf("%w: %w", errSpareGone, err)
	}
	b := make([]byte, 1)
	if _, err := s.sock.Read(b); err != nil {
		s.cmd.Process.Kill()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("monitor did not get ready in %v", timeout)
		}
		log, _ := os.ReadFile(filepath.Join(dir, monLog))
		return fmt.Errorf("monitor failed: %s", lastLine(string(log)))
	}
	return nil
}

// takeSpare returns the waiting spare, or a new (fresh) one when there is
// none. Start makes the next spare once it is done (refillSpare): the
// first spare is started by the first Start, so a program that runs no
// container (or a test binary that cannot be a monitor) never starts one.
func (r *Runtime) takeSpare() (s *spareMonitor, fresh bool, err error) {
	r.mu.Lock()
	s = r.spare
	r.spare = nil
	r.mu.Unlock()
	if s != nil {
		return s, false, nil
	}
	s, err = startSpare()
	return s, true, err
}

// refillSpare starts a spare when none is waiting.
func (r *Runtime) refillSpare() {
	r.mu.Lock()
	if r.spare != nil || r.refilling {
		r.mu.Unlock()
		return
	}
	r.refilling = true
	r.mu.Unlock()
	s, err := startSpare()
	r.mu.Lock()
	r.refilling = false
	if err == nil && r.spare == nil {
		r.spare, s = s, nil
	}
	r.mu.Unlock()
	if s != nil {
		s.sock.Close()
	}
}

// awaitAssignment is the spare's side of assign: it reads its container's
// folder from fd 3 and sends its output to the container's monitor log.
// ok is false when the agent went away first.
func awaitAssignment() (dir string, ok bool) {
	// fd 3 is read as a bare descriptor: an *os.File made for it here
	// would close fd 3 whenever the garbage collector finalizes it, while
	// the monitor writes its ready byte to fd 3 later, and by then fd 3
	// may be another of its files (seen as "bad file descriptor" starts,
	// spares gone silent and starts waiting forever for the byte).
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := unix.Read(3, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return "", false
		}
		if b[0] == '\n' {
			break
		}
		line = append(line, b[0])
	}
	dir = string(line)
	if logf, err := os.OpenFile(filepath.Join(dir, monLog), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600); err == nil {
		unix.Dup3(int(logf.Fd()), 1, 0)
		unix.Dup3(int(logf.Fd()), 2, 0)
		logf.Close()
	}
	return dir, true
}

// spareDelay bounds how long the next spare waits for the container whose
// start took the last one (see refillAfter).
var spareDelay = 300 * time.Millisecond

// refillAfter starts the next spare once the container e that took the
// last one has ended (its monitor is gone), has run for spareDelay, or
// another container is created (kickRefill), whichever comes first: a
// `run --rm` of a short command ends in less, and starting a spare (two
// processes) while it runs and is removed made `run --rm hello` 25 ms
// slower in a TCG machine, whose CPUs the run keeps busy.
func (r *Runtime) refillAfter(e *entry) {
	r.mu.Lock()
	done, kick := e.watchDone, r.kick
	r.mu.Unlock()
	if done != nil {
		t := time.NewTimer(spareDelay)
		select {
		case <-done:
		case <-t.C:
		case <-kick:
		}
		t.Stop()
	}
	r.refillSpare()
}

// kickRefill makes the refillAfter calls waiting now start the next spare.
func (r *Runtime) kickRefill() {
	r.mu.Lock()
	close(r.kick)
	r.kick = make(chan struct{})
	r.mu.Unlock()
}
