package container

import (
	"fmt"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// rlimitNames are the --ulimit names Docker accepts.
var rlimitNames = map[string]int{
	"as": unix.RLIMIT_AS, "core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU,
	"data": unix.RLIMIT_DATA, "fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS,
	"memlock": unix.RLIMIT_MEMLOCK, "msgqueue": unix.RLIMIT_MSGQUEUE,
	"nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE, "nproc": unix.RLIMIT_NPROC,
	"rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO, "rttime": unix.RLIMIT_RTTIME,
	"sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// CheckUlimit reports whether u names a limit the kernel has.
func CheckUlimit(u Ulimit) error {
	if _, ok := rlimitNames[u.Name]; !ok {
		return fmt.Errorf("invalid ulimit type: %s", u.Name)
	}
	if u.Soft > u.Hard {
		return fmt.Errorf("ulimit soft limit must be less than or equal to hard limit: %d > %d", u.Soft, u.Hard)
	}
	return nil
}

// shmOptions are the mount options of /dev/shm.
func shmOptions(size int64) string {
	if size <= 0 {
		return "mode=1777,size=65536k"
	}
	return "mode=1777,size=" + strconv.FormatInt(size, 10)
}

// writeSysctls sets the container's namespaced kernel parameters through
// its own /proc/sys (before it is made read-only).
func writeSysctls(sysctls map[string]string) error {
	for k, v := range sysctls {
		if strings.Contains(k, "..") || strings.Contains(k, "/") {
			return fmt.Errorf("invalid sysctl %q", k)
		}
		p := filepath.Join("/proc/sys", strings.ReplaceAll(k, ".", "/"))
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("set sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// makeUserDevices makes the --device nodes (and a privileged container's
// host devices) in the container's /dev.
func makeUserDevices(devs []Device) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range devs {
		p := path.Clean("/" + d.PathInContainer)
		mode := uint32(unix.S_IFCHR)
		if d.Type == 'b' {
			mode = unix.S_IFBLK
		}
		if err := os.MkdirAll(path.Dir(p), 0o755); err != nil {
			return fmt.Errorf("make device folder for %s: %w", p, err)
		}
		os.Remove(p)
		if err := unix.Mknod(p, mode|d.Mode&0o7777, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
			return fmt.Errorf("make device %s: %w", p, err)
		}
	}
	return nil
}

// applyProcessLimits sets the --ulimit limits and the OOM score
// adjustment of the container's process (inherited by what it runs).
func applyProcessLimits(h HostSettings) error {
	for _, u := range h.Ulimits {
		res, ok := rlimitNames[u.Name]
		if !ok {
			return fmt.Errorf("invalid ulimit type: %s", u.Name)
		}
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: uint64(u.Soft), Max: uint64(u.Hard)}); err != nil {
			return fmt.Errorf("set ulimit %s=%d:%d: %w", u.Name, u.Soft, u.Hard, err)
		}
	}
	if h.OomScoreAdj != 0 {
		if err := os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(h.OomScoreAdj)), 0); err != nil {
			return fmt.Errorf("set oom_score_adj: %w", err)
		}
	}
	return nil
}

// addGroups adds the --group-add groups (names from the container's
// /etc/group, or numbers) to u's supplementary groups.
func addGroups(u *ExecUser, names []string) error {
	if len(names) == 0 {
		return nil
	}
	var groups []groupEntry
	if f, err := os.Open("/etc/group"); err == nil {
		groups, _ = parseGroup(f)
		f.Close()
	}
next:
	for _, n := range names {
		if gid, err := strconv.ParseUint(n, 10, 32); err == nil {
			u.Groups = append(u.Groups, uint32(gid))
			continue
		}
		for _, g := range groups {
			if g.name == n {
				u.Groups = append(u.Groups, g.gid)
				continue next
			}
		}
		return fmt.Errorf("unable to find group %s", n)
	}
	return nil
}

// runAsInit is --init: the command runs as PID 1's child; PID 1 forwards
// every signal to it, reaps every orphan and exits as the command did
// (128+N when a signal N ended it). It never returns when the command
// started.
func runAsInit(argv0 string, args, env []string, tty bool, started func()) error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark descriptors close-on-exec: %w", err)
	}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs)
	pid, err := syscall.ForkExec(argv0, args, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Foreground: tty, Ctty: 0},
	})
	if err != nil {
		signal.Reset()
		return err
	}
	started()
	go func() {
		for s := range sigs {
			if sig := s.(syscall.Signal); sig != syscall.SIGCHLD && sig != syscall.SIGURG {
				unix.Kill(pid, sig)
			}
		}
	}()
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(-1, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			os.Exit(exitSetupFailed)
		}
		if got != pid {
			continue
		}
		if ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ws.ExitStatus())
	}
}

// stopSignal is the signal stop sends first: the container's StopSignal,
// else SIGTERM.
func stopSignal(spec Spec) syscall.Signal {
	if sig, err := ParseSignal(spec.StopSignal); err == nil {
		return sig
	}
	return syscall.SIGTERM
}

// ParseSignal reads a signal as Docker accepts it: "SIGTERM", "TERM", "15".
func ParseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal: %s", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal: %s", s)
}
