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
	if st, _ := r.state(e.spec.ID); st.Status != StatusRunning {
		return "", fmt.Errorf("%w: container %s is not running", ErrNotRunning, e.spec.Name)
	}
	id := NewID()
	r.mu.Lock()
	if r.execs == nil {
		r.execs = map[string]*execInstance{}
	}
	r.execs[id] = &execInstance{info: ExecInfo{ID: id, ContainerID: e.spec.ID, Spec: spec}}
	r.mu.Unlock()
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

// ExecStart runs the exec instance: stdin (nil when not attached) feeds
// the command, its output goes to out (raw with a TTY, else Docker's
// multiplexed framing). It returns the command's exit code once it ended
// and its output was written.
func (r *Runtime) ExecStart(ctx context.Context, id string, stdin io.Reader, out io.Writer, size *[2]uint) (int, error) {
	x, err := r.execInstance(id)
	if err != nil {
		return 0, err
	}
	x.mu.Lock()
	if x.info.Running || x.info.ExitCode != nil {
		x.mu.Unlock()
		return 0, fmt.Errorf("%w: exec %s already started", ErrAlreadyStarted, id)
	}
	x.info.Running = true
	spec := x.info.Spec
	x.mu.Unlock()
	finish := func(code int) {
		x.mu.Lock()
		x.info.Running = false
		x.info.ExitCode = &code
		x.mu.Unlock()
	}

	info, err := r.Get(x.info.ContainerID)
	if err != nil {
		finish(exitSetupFailed)
		return 0, err
	}
	if info.State.Status != StatusRunning || info.State.Pid == 0 {
		finish(exitSetupFailed)
		return 0, fmt.Errorf("%w: container %s is not running", ErrNotRunning, info.Spec.Name)
	}
	filter, err := seccompFilter(info.Spec)
	if err != nil {
		finish(exitSetupFailed)
		return 0, err
	}
	cfg := execConfig{
		Seccomp:         filter,
		Pid:             info.State.Pid,
		Args:            spec.Args,
		Env:             MergeEnv(info.Spec.Env, spec.Env),
		Cwd:             info.Spec.WorkingDir,
		User:            info.Spec.User,
		NoNewPrivileges: info.Spec.NoNewPrivileges,
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

	var (
		child  [3]*os.File
		closeL []*os.File
		outs   []*os.File
		ids    []byte
		inW    io.WriteCloser
	)
	if spec.Tty {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			finish(exitSetupFailed)
			return 0, err
		}
		child = [3]*os.File{null, null, null}
		closeL = []*os.File{null}
		cfg.Tty = true
	} else {
		var inR *os.File
		if stdin != nil {
			pr, pw, err := os.Pipe()
			if err != nil {
				finish(exitSetupFailed)
				return 0, err
			}
			inR, inW = pr, pw
		} else {
			inR, err = os.Open(os.DevNull)
			if err != nil {
				finish(exitSetupFailed)
				return 0, err
			}
		}
		or, ow, err := os.Pipe()
		if err != nil {
			finish(exitSetupFailed)
			return 0, err
		}
		er, ew, err := os.Pipe()
		if err != nil {
			finish(exitSetupFailed)
			return 0, err
		}
		child = [3]*os.File{inR, ow, ew}
		closeL = []*os.File{inR, ow, ew}
		outs, ids = []*os.File{or, er}, []byte{StreamStdout, StreamStderr}
	}

	cmd, master, ierr, err := r.startExecHelper(info, cfg, child, closeL)
	if err != nil {
		for _, f := range outs {
			f.Close()
		}
		finish(exitSetupFailed)
		return 0, err
	}
	if master != nil {
		if size != nil && size[0] > 0 {
			unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(size[0]), Col: uint16(size[1])})
		}
		outs, ids, inW = []*os.File{master}, []byte{StreamStdout}, master
		x.mu.Lock()
		x.pty = master
		x.mu.Unlock()
	}
	x.mu.Lock()
	x.info.Pid = cmd.Process.Pid
	x.mu.Unlock()

	var wmu sync.Mutex
	var wg sync.WaitGroup
	for i, f := range outs {
		wg.Add(1)
		go func(f *os.File, id byte) {
			defer wg.Done()
			defer f.Close()
			buf := make([]byte, 32<<10)
			for {
				n, err := f.Read(buf)
				if n > 0 {
					wmu.Lock()
					if spec.Tty {
						out.Write(buf[:n])
					} else if id == StreamStdout && spec.AttachStdout || id == StreamStderr && spec.AttachStderr {
						WriteFrame(out, id, buf[:n])
					}
					wmu.Unlock()
				}
				if err != nil {
					return
				}
			}
		}(f, ids[i])
	}
	if stdin != nil && inW != nil {
		go func() {
			io.Copy(inW, stdin)
			if !spec.Tty {
				inW.Close()
			}
		}()
	} else if inW != nil && !spec.Tty {
		inW.Close()
	}
	code := 0
	werr := cmd.Wait()
	if ierr != nil {
		code = ierr.Code
		wmu.Lock()
		if spec.Tty {
			out.Write([]byte(ierr.Message + "\r\n"))
		} else {
			WriteFrame(out, StreamStderr, []byte(ierr.Message+"\n"))
		}
		wmu.Unlock()
	} else if werr != nil {
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			ws := ee.Sys().(syscall.WaitStatus)
			code = ws.ExitStatus()
			if ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
	wg.Wait()
	x.mu.Lock()
	x.pty = nil
	x.mu.Unlock()
	finish(code)
	return code, nil
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
