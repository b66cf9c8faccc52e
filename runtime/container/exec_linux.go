package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// execConfig is what the agent hands the exec helper (JSON on fd 3).
type execConfig struct {
	Pid             int // the container's init, to join its namespaces
	Args            []string
	Env             []string
	Cwd             string
	User            string
	NoNewPrivileges bool
	Seccomp         []byte // the container's seccomp filter; nil: unconfined
	Tty             bool
	ConsoleSize     [2]uint // the terminal's initial [height, width]
	Caps            uint64  // the container's capability set
	GroupAdd        []string
}

// runExecHelper runs a command in a running container. The agent starts
// it already inside the container's PID namespace and cgroup; it joins the
// other namespaces on its locked thread, becomes the container's user with
// Docker's capabilities and execs the command. It never returns.
func runExecHelper() {
	runtime.LockOSThread()
	errf := os.NewFile(initErrorFd, "exec-error")
	fail := func(code int, err error) {
		b, _ := json.Marshal(initError{Code: code, Message: err.Error()})
		errf.Write(b)
		os.Exit(code)
	}
	var cfg execConfig
	cf := os.NewFile(initConfigFd, "exec-config")
	if err := json.NewDecoder(cf).Decode(&cfg); err != nil {
		fail(exitSetupFailed, fmt.Errorf("read exec config: %w", err))
	}
	cf.Close()
	if err := joinNamespaces(cfg.Pid); err != nil {
		fail(exitSetupFailed, err)
	}
	if cfg.Tty {
		if err := setupConsole(cfg.ConsoleSize); err != nil {
			fail(exitSetupFailed, err)
		}
	}
	u, err := lookupUser(cfg.User)
	if err == nil {
		err = addGroups(&u, cfg.GroupAdd)
	}
	if err != nil {
		fail(exitSetupFailed, err)
	}
	env := cfg.Env
	if _, ok := envValue(env, "HOME"); !ok {
		env = append(env, "HOME="+u.Home)
	}
	if err := os.Chdir(cfg.Cwd); err != nil {
		fail(exitCannotRun, fmt.Errorf("change to working directory %s: %w", cfg.Cwd, err))
	}
	argv0, code, err := lookCommand(cfg.Args[0], env)
	if err != nil {
		fail(code, err)
	}
	if err := confine(u, cfg.Caps, cfg.NoNewPrivileges, cfg.Seccomp); err != nil {
		fail(exitSetupFailed, err)
	}
	err = execve(argv0, cfg.Args, env)
	fail(execErrorCode(err), fmt.Errorf("exec: %q: %w", cfg.Args[0], err))
}

// joinNamespaces moves the calling thread into the mount, UTS, IPC,
// network and cgroup namespaces of pid.
func joinNamespaces(pid int) error {
	kinds := []struct {
		name string
		flag int
	}{
		{"ipc", unix.CLONE_NEWIPC}, {"uts", unix.CLONE_NEWUTS}, {"net", unix.CLONE_NEWNET},
		{"cgroup", unix.CLONE_NEWCGROUP}, {"mnt", unix.CLONE_NEWNS},
	}
	fds := make([]int, len(kinds))
	for i, k := range kinds {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/%s", pid, k.name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s namespace of the container: %w", k.name, err)
		}
		fds[i] = fd
	}
	// Joining a mount namespace needs a thread that shares no fs
	// information with the runtime's other threads.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	var errs []error
	for i, k := range kinds {
		if err := unix.Setns(fds[i], k.flag); err != nil {
			errs = append(errs, fmt.Errorf("join %s namespace of the container: %w", k.name, err))
		}
		unix.Close(fds[i])
	}
	return errors.Join(errs...)
}
