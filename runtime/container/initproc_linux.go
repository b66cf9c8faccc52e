package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// initProc is a container init that has started in its new namespaces and
// waits for its work: its stdio descriptors, then its configuration, both
// on its config socket (fd 3). It is cloned before it is needed when it
// can be (see warmInit), so that its start-up is off the start path.
type initProc struct {
	cmd     *exec.Cmd
	cfg     *os.File // our end of fd 3
	errR    *os.File // fd 4's read end: an initError, or EOF once it execs
	console *os.File // our end of fd 5, where a TTY init sends the terminal
	flags   uintptr
	// mounts fingerprints the mount table the init's mount namespace was
	// copied from: a mount made since would be missing in it.
	mounts uint64
}

// cloneInit starts an init in new namespaces (flags: CLONE_NEW*). It has
// /dev/null as stdio until it is given its own.
func cloneInit(flags uintptr) (*initProc, error) {
	self, err := sealedSelf()
	if err != nil {
		return nil, err
	}
	mounts := mountsFingerprint()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	cfg, cfgChild, err := socketPair("init-config")
	if err != nil {
		return nil, err
	}
	defer cfgChild.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		cfg.Close()
		return nil, err
	}
	defer errW.Close()
	console, consoleChild, err := consolePair()
	if err != nil {
		cfg.Close()
		errR.Close()
		return nil, err
	}
	defer consoleChild.Close()
	cmd := &exec.Cmd{
		Path:        self,
		Args:        []string{"berth-agent", initCommand},
		Env:         []string{},
		Stdin:       null,
		Stdout:      null,
		Stderr:      null,
		ExtraFiles:  []*os.File{cfgChild, errW, consoleChild}, // fds 3, 4, 5
		SysProcAttr: &syscall.SysProcAttr{Cloneflags: flags, Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		cfg.Close()
		errR.Close()
		console.Close()
		return nil, fmt.Errorf("start container init: %w", err)
	}
	return &initProc{cmd: cmd, cfg: cfg, errR: errR, console: console, flags: flags, mounts: mounts}, nil
}

// usable reports whether p can run a container that needs flags.
func (p *initProc) usable(flags uintptr) bool {
	return p.flags == flags && p.mounts == mountsFingerprint()
}

// discard ends an init that was not given work.
func (p *initProc) discard() {
	p.cfg.Close()
	p.console.Close()
	p.errR.Close()
	p.cmd.Wait()
}

// joinCgroup moves the init into the cgroup folder dir.
func (p *initProc) joinCgroup(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(p.cmd.Process.Pid)), 0); err != nil {
		return fmt.Errorf("move the container into its cgroup: %w", err)
	}
	return nil
}

// configure gives the init its stdio and its configuration. The init
// sets up the container, then waits for proceed (or, when its config
// socket closes first, exits) before it runs the command.
func (p *initProc) configure(stdio []*os.File, cfg initConfig) error {
	fds := make([]int, len(stdio))
	for i, f := range stdio {
		fds[i] = int(f.Fd())
	}
	if err := unix.Sendmsg(int(p.cfg.Fd()), []byte{'S'}, unix.UnixRights(fds...), nil, 0); err != nil {
		return fmt.Errorf("hand the container its stdio: %w", err)
	}
	if err := json.NewEncoder(p.cfg).Encode(cfg); err != nil {
		return fmt.Errorf("hand the container init its configuration: %w", err)
	}
	return nil
}

// proceed lets a configured init run the command. An error means the
// init is gone (it failed, and says why on its error pipe).
func (p *initProc) proceed() error {
	_, err := p.cfg.Write([]byte{initProceed})
	p.cfg.Close()
	return err
}

// initProceed is the byte by which the monitor lets the init run the
// command.
const initProceed = 'G'

// awaitProceed is the init's side of proceed: it reads the config socket
// (after what dec read of it) up to the go-ahead byte. false when the
// socket closed first: the monitor gave up on the container.
func awaitProceed(dec *json.Decoder, sock *os.File) bool {
	r := io.MultiReader(dec.Buffered(), sock)
	b := make([]byte, 1)
	for {
		if _, err := io.ReadFull(r, b); err != nil {
			return false
		}
		if b[0] == initProceed {
			return true
		}
	}
}

// receiveStdio is the init's side of configure's first step: it makes the
// descriptors it is sent its stdin, stdout and stderr. ok is false when
// its monitor closed the socket instead (a spare init not needed).
func receiveStdio(sock *os.File) (ok bool, err error) {
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(3*4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return false, fmt.Errorf("receive stdio: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return false, fmt.Errorf("parse stdio message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 3 {
		return false, errors.New("the stdio message carries no 3 descriptors")
	}
	for i, fd := range fds {
		if err := unix.Dup3(fd, i, 0); err != nil {
			return false, fmt.Errorf("use stdio: %w", err)
		}
		unix.Close(fd)
	}
	return true, nil
}

// mountsFingerprint hashes this process's mount table (mount IDs change
// with every mount and unmount); 0 when it cannot be read.
func mountsFingerprint() uint64 {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	h := fnv.New64a()
	if _, err := io.Copy(h, f); err != nil {
		return 0
	}
	return h.Sum64()
}

// socketPair makes a connected stream socket pair, close-on-exec.
func socketPair(name string) (ours, theirs *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("make %s socket: %w", name, err)
	}
	return os.NewFile(uintptr(fds[0]), name), os.NewFile(uintptr(fds[1]), name), nil
}

// initFlags are the namespaces a container's init is cloned into.
const initFlags = unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWNET

// warmIdle is how long a spare monitor keeps its warm init: an init holds
// a copy of the machine's mounts, which keeps a share from being mounted
// again while it lives.
const warmIdle = 30 * time.Second

// warmInit is an init being cloned ahead of need, by a spare monitor while
// it waits for its container.
type warmInit struct {
	ready chan struct{}
	mu    sync.Mutex
	p     *initProc
	taken bool
}

func startWarmInit(flags uintptr) *warmInit {
	w := &warmInit{ready: make(chan struct{})}
	go func() {
		w.p, _ = cloneInit(flags) // on failure the start clones one itself
		close(w.ready)
	}()
	return w
}

// take waits for the clone and returns the init, nil when it failed or
// was taken (or expired) before.
func (w *warmInit) take() *initProc {
	<-w.ready
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.taken {
		return nil
	}
	w.taken = true
	return w.p
}

// expire ends the init if nobody took it.
func (w *warmInit) expire() {
	if p := w.take(); p != nil {
		p.discard()
	}
}

// takeInit returns the monitor's warm init when it can run this container,
// else a new one.
func (m *monitor) takeInit(flags uintptr) (*initProc, error) {
	if w := m.warm; w != nil {
		m.warm = nil
		if p := w.take(); p != nil {
			if p.usable(flags) {
				return p, nil
			}
			p.discard()
		}
	}
	return cloneInit(flags)
}

// dropWarmInit ends the warm init when it was not used.
func (m *monitor) dropWarmInit() {
	if w := m.warm; w != nil {
		m.warm = nil
		w.expire()
	}
}
