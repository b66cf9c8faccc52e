package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// ExecSpec is a command to run in a running container (docker exec).
type ExecSpec struct {
	Args         []string
	Env          []string // added to the container's environment
	WorkingDir   string   // default: the container's
	User         string   // default: the container's
	Tty          bool
	AttachStdin  bool
	AttachStdout bool
	AttachStderr bool
}

// ExecInfo is an exec instance's state.
type ExecInfo struct {
	ID          string
	ContainerID string
	Spec        ExecSpec
	Running     bool
	ExitCode    *int
	Pid         int
}

type execInstance struct {
	mu   sync.Mutex
	info ExecInfo
	pty  *os.File
}

// ExecCreate registers a command to run in the running container ref.
func (r *Runtime) ExecCreate(ref string, spec ExecSpec) (string, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return "", err
	}
	if len(spec.Args) == 0 {
		return "", errors.New("exec: no command specified")
	}
	if st, _ := r.state(e.spec().ID); st.Status != StatusRunning {
		return "", fmt.Errorf("%w: container %s is not running", ErrNotRunning, e.spec().Name)
	}
	if frozen(e.spec().ID) {
		return "", fmt.Errorf("%w: unpause the container %s before exec", ErrPaused, e.spec().Name)
	}
	id := NewID()
	r.mu.Lock()
	if r.execs == nil {
		r.execs = map[string]*execInstance{}
	}
	r.execs[id] = &execInstance{info: ExecInfo{ID: id, ContainerID: e.spec().ID, Spec: spec}}
	r.mu.Unlock()
	r.emitExec(ActionExecCreate, ExecInfo{ID: id, ContainerID: e.spec().ID, Spec: spec}, nil)
	return id, nil
}

func (r *Runtime) execInstance(id string) (*execInstance, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.execs[id]
	if !ok {
		return nil, fmt.Errorf("%w: no such exec instance %s", ErrNotFound, id)
	}
	return x, nil
}

// ExecInspect returns an exec instance's state.
func (r *Runtime) ExecInspect(id string) (ExecInfo, error) {
	x, err := r.execInstance(id)
	if err != nil {
		return ExecInfo{}, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.info, nil
}

// ExecResize sets the size of an exec's terminal.
func (r *Runtime) ExecResize(id string, height, width int) error {
	x, err := r.execInstance(id)
	if err != nil {
		return err
	}
	x.mu.Lock()
	pty := x.pty
	x.mu.Unlock()
	if pty == nil {
		return errors.New("exec has no terminal")
	}
	return unix.IoctlSetWinsize(int(pty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(height), Col: uint16(width)})
}

// ExecStart runs the exec instance id and returns its command's exit code
// once the command ended and its output was written. stdin (nil when not
// attached) feeds the command; its output goes to out, raw with a TTY, else
// in Docker's multiplexed framing; size is the terminal's first [height,
// width] (nil: the default).
//
// ctx bounds the run. Done before the start, it starts nothing and the
// exec instance can still be started. Done while the command runs, it
// kills the command's process group (SIGKILL), drops the output still on
// its way, and ExecStart returns ctx.Err() with the exit code (137) that
// ExecInspect reports from then on.
func (r *Runtime) ExecStart(ctx context.Context, id string, stdin io.Reader, out io.Writer, size *[2]uint) (int, error) {
	x, err := r.execInstance(id)
	if err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := x.begin(); err != nil {
		return 0, err
	}
	started := x.snapshot()
	r.emitExec(ActionExecStart, started, nil)
	finish := func(code int) {
		x.finish(code)
		r.emitExec(ActionExecDie, started, &code)
	}
	run, err := r.startExec(x, stdin, out, size)
	if err != nil {
		finish(exitSetupFailed)
		return 0, err
	}
	code, err := run.wait(ctx)
	finish(code)
	return code, err
}

// begin marks x running: an exec instance runs once.
func (x *execInstance) begin() error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.info.Running || x.info.ExitCode != nil {
		return fmt.Errorf("%w: exec %s already started", ErrAlreadyStarted, x.info.ID)
	}
	x.info.Running = true
	return nil
}

// snapshot is a copy of x's info.
func (x *execInstance) snapshot() ExecInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.info
}

// started records the command's process and its terminal (nil: none).
func (x *execInstance) started(pid int, pty *os.File) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.info.Pid = pid
	x.pty = pty
}

// finish records the command's exit code.
func (x *execInstance) finish(code int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.info.Running = false
	x.info.ExitCode = &code
	x.pty = nil
}

// execRun is an exec instance's command once started.
type execRun struct {
	cmd  *exec.Cmd
	ierr *initError // the helper could not exec the command
	io   *execIO
}

// startExec starts x's command in its container with its stdio wired to
// stdin and out.
func (r *Runtime) startExec(x *execInstance, stdin io.Reader, out io.Writer, size *[2]uint) (*execRun, error) {
	spec := x.info.Spec // set at create, never changed
	info, cfg, err := r.execConfigFor(x.info.ContainerID, spec, size)
	if err != nil {
		return nil, err
	}
	s, err := newExecIO(spec, out, stdin != nil)
	if err != nil {
		return nil, err
	}
	cmd, master, ierr, err := r.startExecHelper(info, cfg, s.child, s.handed)
	if err != nil {
		s.discard()
		return nil, err
	}
	if master != nil {
		s.useTerminal(master, size)
	}
	x.started(cmd.Process.Pid, master)
	s.copy(stdin)
	return &execRun{cmd: cmd, ierr: ierr, io: s}, nil
}

// execConfigFor returns the running container cid and what its exec
// helper needs to run spec there: the container's settings with spec's
// on top.
func (r *Runtime) execConfigFor(cid string, spec ExecSpec, size *[2]uint) (Info, execConfig, error) {
	info, err := r.Get(cid)
	if err != nil {
		return Info{}, execConfig{}, err
	}
	if info.State.Status != StatusRunning || info.State.Pid == 0 {
		return Info{}, execConfig{}, fmt.Errorf("%w: container %s is not running", ErrNotRunning, info.Spec.Name)
	}
	filter, err := seccompFilter(info.Spec, r.dir)
	if err != nil {
		return Info{}, execConfig{}, err
	}
	cfg := execConfig{
		Seccomp:         filter,
		Pid:             info.State.Pid,
		Args:            spec.Args,
		Env:             MergeEnv(info.Spec.Env, spec.Env),
		Cwd:             info.Spec.WorkingDir,
		User:            info.Spec.User,
		NoNewPrivileges: info.Spec.NoNewPrivileges,
		Tty:             spec.Tty,
		Caps:            capsOf(info.Spec),
		GroupAdd:        info.Spec.GroupAdd,
	}
	if spec.WorkingDir != "" {
		cfg.Cwd = spec.WorkingDir
	}
	if spec.User != "" {
		cfg.User = spec.User
	}
	if spec.Tty {
		cfg.Env = MergeEnv(cfg.Env, []string{"TERM=xterm"})
		if size != nil {
			cfg.ConsoleSize = *size
		}
	}
	return info, cfg, nil
}

// wait waits for the command to end and its output to be copied, and
// returns its exit code; see ExecStart for what a done ctx does.
func (e *execRun) wait(ctx context.Context) (int, error) {
	werr, ctxErr := e.waitOrKill(ctx)
	code := exitCode(werr)
	if e.ierr != nil {
		code = e.ierr.Code
		e.io.message(e.ierr.Message)
	}
	e.io.waitCopied()
	return code, ctxErr
}

// waitOrKill waits for the command to end. When ctx is done first, it
// kills the command's process group, cuts its output off and also
// returns ctx.Err().
func (e *execRun) waitOrKill(ctx context.Context) (werr, ctxErr error) {
	pid := e.cmd.Process.Pid
	exited := make(chan struct{})
	go func() {
		// Wait for the exit without reaping it, so that pid (the
		// process group's ID: the helper ran with Setsid) stays the
		// command's until cmd.Wait below.
		var si unix.Siginfo
		for unix.Waitid(unix.P_PID, pid, &si, unix.WEXITED|unix.WNOWAIT, nil) == unix.EINTR {
		}
		close(exited)
	}()
	select {
	case <-exited:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		unix.Kill(-pid, unix.SIGKILL)
		e.io.cutOff()
	}
	return e.cmd.Wait(), ctxErr
}

// exitCode is the exit code of a command that ended with werr (from
// exec.Cmd.Wait): 128+n for a command killed by signal n.
func exitCode(werr error) int {
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		return 0
	}
	ws := ee.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// startExecHelper starts the exec helper inside the container's PID
// namespace and cgroup, with stdio (closed here once handed over; see
// closeL). With cfg.Tty it returns the terminal's master that the helper
// made in the container. A setup failure of the helper (the command could
// not be exec'd) comes back as ierr, with the helper already started.
func (r *Runtime) startExecHelper(info Info, cfg execConfig, stdio [3]*os.File, closeL []*os.File) (cmd *exec.Cmd, master *os.File, ierr *initError, err error) {
	defer func() {
		for _, f := range closeL {
			f.Close()
		}
	}()
	self, err := sealedSelf()
	if err != nil {
		return nil, nil, nil, err
	}
	root, err := CgroupRoot()
	if err != nil {
		return nil, nil, nil, err
	}
	cgfd, err := unix.Open(filepath.Join(root, cgroupParent, info.Spec.ID), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open container cgroup: %w", err)
	}
	defer unix.Close(cgfd)
	pidns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/pid", cfg.Pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open container pid namespace: %w", err)
	}
	defer unix.Close(pidns)
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	defer cfgR.Close()
	defer cfgW.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, nil, nil, err
	}
	defer errR.Close()
	defer errW.Close()
	extra := []*os.File{cfgR, errW}
	var console, consoleChild *os.File
	if cfg.Tty {
		if console, consoleChild, err = consolePair(); err != nil {
			return nil, nil, nil, err
		}
		defer console.Close()
		defer consoleChild.Close()
		extra = append(extra, consoleChild) // fd 5
	}
	cmd = &exec.Cmd{
		Path:       self,
		Args:       []string{"berth-agent", execCommand},
		Env:        []string{},
		Dir:        "/",
		Stdin:      stdio[0],
		Stdout:     stdio[1],
		Stderr:     stdio[2],
		ExtraFiles: extra,
		SysProcAttr: &syscall.SysProcAttr{
			UseCgroupFD: true,
			CgroupFD:    cgfd,
			Setsid:      true,
		},
	}
	started := make(chan error, 1)
	go func() {
		// This thread joins the container's PID namespace for its
		// children; it is never unlocked, so it ends with the goroutine.
		runtime.LockOSThread()
		if err := unix.Setns(pidns, unix.CLONE_NEWPID); err != nil {
			started <- fmt.Errorf("join container pid namespace: %w", err)
			return
		}
		started <- cmd.Start()
	}()
	if err := <-started; err != nil {
		return nil, nil, nil, fmt.Errorf("start exec helper: %w", err)
	}
	errW.Close()
	cfgR.Close()
	for _, f := range closeL {
		f.Close()
	}
	closeL = nil
	if consoleChild != nil {
		consoleChild.Close()
	}
	json.NewEncoder(cfgW).Encode(cfg)
	cfgW.Close()
	if console != nil {
		master, _ = receiveConsole(console)
	}
	msg, _ := io.ReadAll(errR)
	if len(msg) > 0 {
		var ie initError
		if json.Unmarshal(msg, &ie) != nil {
			ie = initError{Code: exitSetupFailed, Message: string(msg)}
		}
		if master != nil {
			master.Close()
			master = nil
		}
		return cmd, nil, &ie, nil
	}
	return cmd, master, nil, nil
}
