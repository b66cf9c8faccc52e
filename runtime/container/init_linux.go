package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/berthvm/berth/runtime/seccomp"
	"golang.org/x/sys/unix"
)

// initConfig is what the monitor hands the container init (as JSON on fd
// 3, a socket, after a message carrying its stdio descriptors).
type initConfig struct {
	Rootfs    string   // an empty folder to mount the root filesystem on
	LowerDirs []string // top-most first
	UpperDir  string
	WorkDir   string
	Binds     []bindMount // files of the state folder bound into the container
	Mounts    []Mount     // volumes, bind mounts and tmpfs mounts
	ReadOnly  bool        // the root filesystem is read-only

	Args            []string
	Env             []string
	Cwd             string
	User            string
	Hostname        string
	NoNewPrivileges bool
	Seccomp         []byte  // the seccomp filter to install (seccomp.Compile); nil: unconfined
	Tty             bool    // make a terminal in the container, send it on fd 5
	ConsoleSize     [2]uint // its initial [height, width]; zero: unset
	Caps            uint64  // the capability set (HostSettings.CapMask)
	Host            HostSettings
}

type bindMount struct {
	Source string // host path
	Target string // path inside the container
}

// initError is what the init reports on fd 4 when it cannot exec the
// container's command; success closes fd 4 with no data (close-on-exec).
type initError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

const (
	initConfigFd = 3
	initErrorFd  = 4
)

// Exit codes for commands that cannot be run, as Docker reports them.
const (
	exitSetupFailed = 125
	exitCannotRun   = 126
	exitNotFound    = 127
)

var (
	maskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore",
		"/proc/keys", "/proc/latency_stats", "/proc/timer_list",
		"/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
		"/sys/firmware", "/sys/devices/virtual/powercap",
	}
	readonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

// runInit is the container's init: it runs in the container's fresh
// namespaces (made by the monitor's clone), builds the root filesystem,
// drops privileges and execs the container's command, so that the
// command becomes PID 1. It never returns.
func runInit() {
	runtime.LockOSThread()
	errf := os.NewFile(initErrorFd, "init-error")
	fail := func(code int, err error) {
		b, _ := json.Marshal(initError{Code: code, Message: err.Error()})
		errf.Write(b)
		os.Exit(code)
	}
	var cfg initConfig
	cf := os.NewFile(initConfigFd, "init-config")
	go warmJSON(&initConfig{}) // while a warm init waits for its container
	if ok, err := receiveStdio(cf); err != nil {
		fail(exitSetupFailed, err)
	} else if !ok {
		os.Exit(0) // a spare init that was not needed
	}
	dec := json.NewDecoder(cf)
	if err := dec.Decode(&cfg); err != nil {
		fail(exitSetupFailed, fmt.Errorf("read init config: %w", err))
	}
	if err := setupContainer(&cfg); err != nil {
		fail(exitSetupFailed, err)
	}
	if cfg.Tty {
		if err := setupConsole(cfg.ConsoleSize); err != nil {
			fail(exitSetupFailed, err)
		}
	}
	u, err := lookupUser(cfg.User)
	if err == nil {
		err = addGroups(&u, cfg.Host.GroupAdd)
	}
	if err == nil {
		err = applyProcessLimits(cfg.Host)
	}
	if err != nil {
		fail(exitSetupFailed, err)
	}
	env := cfg.Env
	if _, ok := envValue(env, "HOME"); !ok {
		env = append(env, "HOME="+u.Home)
	}
	if err := os.MkdirAll(cfg.Cwd, 0o755); err != nil {
		fail(exitSetupFailed, fmt.Errorf("create working directory %s: %w", cfg.Cwd, err))
	}
	if err := os.Chdir(cfg.Cwd); err != nil {
		fail(exitSetupFailed, fmt.Errorf("change to working directory %s: %w", cfg.Cwd, err))
	}
	argv0, code, err := lookCommand(cfg.Args[0], env)
	if err != nil {
		fail(code, err)
	}
	// The monitor plugs the network meanwhile: the command runs once it
	// has.
	if !awaitProceed(dec, cf) {
		os.Exit(exitSetupFailed)
	}
	cf.Close()
	if err := confine(u, cfg.Caps, cfg.NoNewPrivileges, cfg.Seccomp); err != nil {
		fail(exitSetupFailed, err)
	}
	if cfg.Host.Init {
		err = runAsInit(argv0, cfg.Args, env, cfg.Tty, func() { errf.Close() })
	} else {
		err = execve(argv0, cfg.Args, env)
	}
	fail(execErrorCode(err), fmt.Errorf("exec: %q: %w", cfg.Args[0], err))
}

// confine drops privileges (see dropPrivileges) and installs the seccomp
// filter, when there is one, in runc's order: without no_new_privs
// installing takes CAP_SYS_ADMIN, so before the drop; with it as late as
// can be, after.
func confine(u ExecUser, caps uint64, noNewPrivs bool, filter []byte) error {
	if filter != nil && !noNewPrivs {
		if err := seccomp.Install(filter); err != nil {
			return err
		}
	}
	if err := dropPrivileges(u, caps, noNewPrivs); err != nil {
		return err
	}
	if filter != nil && noNewPrivs {
		return seccomp.Install(filter)
	}
	return nil
}

// dropPrivileges leaves the calling thread with the capabilities caps
// (those the agent has), as user u, with no_new_privs when asked. The
// user switch comes before the capability sets are cut, so that it works
// without CAP_SETUID and CAP_SETGID in caps; a user other than root ends
// with empty permitted and effective sets, as in Docker.
func dropPrivileges(u ExecUser, caps uint64, noNewPrivs bool) error {
	last, err := lastCap()
	if err != nil {
		return err
	}
	caps &= ownCaps()
	if err := limitBoundingCaps(caps, last); err != nil {
		return err
	}
	if noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	if err := setCreds(u); err != nil {
		return err
	}
	if u.UID != 0 {
		return nil
	}
	return setCaps(caps)
}

// execve closes every descriptor above 2 on exec and replaces the process.
func execve(argv0 string, args, env []string) error {
	if err := unix.CloseRange(3, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark descriptors close-on-exec: %w", err)
	}
	return unix.Exec(argv0, args, env)
}

func execErrorCode(err error) int {
	switch {
	case errors.Is(err, unix.ENOENT):
		return exitNotFound
	default:
		return exitCannotRun
	}
}

// lookCommand finds name the way a shell does, on the container's PATH.
func lookCommand(name string, env []string) (string, int, error) {
	check := func(p string) error {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return unix.EACCES
		}
		return nil
	}
	if strings.Contains(name, "/") {
		if err := check(name); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return "", exitNotFound, fmt.Errorf("exec: %q: stat %s: no such file or directory", name, name)
			}
			return "", exitCannotRun, fmt.Errorf("exec: %q: permission denied", name)
		}
		return name, 0, nil
	}
	p, _ := envValue(env, "PATH")
	for _, dir := range filepath.SplitList(p) {
		if dir == "" {
			dir = "."
		}
		full := path.Join(dir, name)
		if check(full) == nil {
			return full, 0, nil
		}
	}
	return "", exitNotFound, fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// lookupUser resolves spec in the container's own /etc/passwd and /etc/group.
func lookupUser(spec string) (ExecUser, error) {
	open := func(p string) io.Reader {
		f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return nil
		}
		st, err := f.Stat()
		if err != nil || !st.Mode().IsRegular() {
			f.Close()
			return nil
		}
		return io.LimitReader(f, 16<<20)
	}
	return ResolveUser(spec, open("/etc/passwd"), open("/etc/group"))
}

// setupContainer builds the container's root filesystem and switches into it.
func setupContainer(cfg *initConfig) error {
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
		return fmt.Errorf("make cgroup namespace: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := mountRootfs(cfg); err != nil {
		return err
	}
	if err := mountSpecial(cfg); err != nil {
		return err
	}
	if err := pivotRoot(cfg.Rootfs); err != nil {
		return err
	}
	if err := makeDevices(); err != nil {
		return err
	}
	if err := makeUserDevices(cfg.Host.Devices); err != nil {
		return err
	}
	if err := writeSysctls(cfg.Host.Sysctls); err != nil {
		return err
	}
	if !cfg.Host.Privileged {
		if err := maskPaths(); err != nil {
			return err
		}
	}
	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return fmt.Errorf("set hostname: %w", err)
	}
	if cfg.ReadOnly {
		if err := unix.Mount("", "/", "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
			return fmt.Errorf("make the root filesystem read-only: %w", err)
		}
	}
	return loopbackUp()
}

func mountRootfs(cfg *initConfig) error {
	if len(cfg.LowerDirs) == 0 {
		return errors.New("no image layers to mount")
	}
	opts := "lowerdir=" + strings.Join(cfg.LowerDirs, ":")
	if cfg.UpperDir != "" {
		opts += ",upperdir=" + cfg.UpperDir + ",workdir=" + cfg.WorkDir
	}
	if err := unix.Mount("overlay", cfg.Rootfs, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount overlay root filesystem (%s): %w", opts, err)
	}
	return nil
}

func mountSpecial(cfg *initConfig) error {
	root, err := unix.Open(cfg.Rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root filesystem: %w", err)
	}
	defer unix.Close(root)
	const (
		nosuid = unix.MS_NOSUID
		nodev  = unix.MS_NODEV
		noexec = unix.MS_NOEXEC
	)
	mounts := []struct {
		src, target, fstype string
		flags               uintptr
		data                string
	}{
		{"proc", "/proc", "proc", nosuid | noexec | nodev, ""},
		{"tmpfs", "/dev", "tmpfs", nosuid, "mode=755,size=65536k"},
		{"devpts", "/dev/pts", "devpts", nosuid | noexec, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"shm", "/dev/shm", "tmpfs", nosuid | noexec | nodev, shmOptions(cfg.Host.ShmSize)},
		{"mqueue", "/dev/mqueue", "mqueue", nosuid | noexec | nodev, ""},
		{"sysfs", "/sys", "sysfs", nosuid | noexec | nodev | unix.MS_RDONLY, ""},
		{"cgroup", "/sys/fs/cgroup", "cgroup2", nosuid | noexec | nodev | unix.MS_RDONLY, ""},
	}
	if cfg.Host.Privileged {
		mounts[5].flags &^= unix.MS_RDONLY // sysfs
	}
	for _, m := range mounts {
		if err := mountInRoot(root, m.src, m.target, m.fstype, m.flags, m.data, true); err != nil {
			return err
		}
	}
	// The user's mounts first, so that a volume on /etc still gets the
	// container's hosts, hostname and resolv.conf; one of the user's on
	// the same file replaces berth's, as in Docker.
	mine := map[string]bool{}
	for _, m := range cfg.Mounts {
		if err := mountUser(root, m); err != nil {
			return err
		}
		mine[path.Clean(m.Target)] = true
	}
	for _, b := range cfg.Binds {
		if mine[b.Target] {
			continue
		}
		if err := mountInRoot(root, b.Source, b.Target, "", unix.MS_BIND, "", false); err != nil {
			return err
		}
	}
	return nil
}

// mountUser mounts one of the user's mounts, the target resolved inside
// the container root.
func mountUser(root int, m Mount) error {
	if m.Type == "tmpfs" {
		var flags uintptr = unix.MS_NOSUID | unix.MS_NODEV
		if m.ReadOnly {
			flags |= unix.MS_RDONLY
		}
		data := m.Data
		if data == "" {
			data = "mode=1777"
		}
		return mountInRoot(root, "tmpfs", m.Target, "tmpfs", flags, data, true)
	}
	if m.Name != "" && !m.NoCopy {
		if err := copyUp(root, m); err != nil {
			return err
		}
	}
	st, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind mount source %s: %w", m.Source, err)
	}
	if err := mountInRoot(root, m.Source, m.Target, "", unix.MS_BIND|unix.MS_REC, "", st.IsDir()); err != nil {
		return err
	}
	if !m.ReadOnly {
		return nil
	}
	// The read-only flag takes a remount of the new mount point.
	fd, err := openInRoot(root, m.Target, st.IsDir())
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount("", fdPath(fd), "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make %s read-only: %w", m.Target, err)
	}
	return nil
}

// pivotRoot makes rootfs the root and detaches the old root.
func pivotRoot(rootfs string) error {
	if err := unix.Chdir(rootfs); err != nil {
		return fmt.Errorf("enter root filesystem: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return unix.Chdir("/")
}

func makeDevices() error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	devs := []struct {
		name         string
		major, minor uint32
	}{
		{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7},
		{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
	}
	for _, d := range devs {
		p := "/dev/" + d.name
		if err := unix.Mknod(p, unix.S_IFCHR|0o666, int(unix.Mkdev(d.major, d.minor))); err != nil {
			return fmt.Errorf("make device %s: %w", p, err)
		}
	}
	links := [][2]string{
		{"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"},
		{"/proc/self/fd/0", "/dev/stdin"}, {"/proc/self/fd/1", "/dev/stdout"},
		{"/proc/self/fd/2", "/dev/stderr"},
	}
	for _, l := range links {
		if err := os.Symlink(l[0], l[1]); err != nil {
			return fmt.Errorf("make device link %s: %w", l[1], err)
		}
	}
	return nil
}

// maskPaths hides and write-protects the /proc and /sys paths Docker does.
//
// Files are masked with /dev/null opened once, without following a
// symlink, and checked to be the null device: a /dev/null that a shared
// volume on /dev swapped for a symlink (CVE-2025-31133) would otherwise
// have a writable /proc file bound over the masked ones.
func maskPaths() error {
	null, err := openDevNull()
	if err != nil {
		return err
	}
	defer unix.Close(null)
	nullPath := fmt.Sprintf("/proc/self/fd/%d", null)
	for _, p := range maskedPaths {
		st, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if st.IsDir() {
			if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_RDONLY, ""); err != nil {
				return fmt.Errorf("mask %s with a read-only tmpfs: %w", p, err)
			}
			continue
		}
		if err := unix.Mount(nullPath, p, "", unix.MS_BIND, ""); err != nil {
			// The null device opened above was unlinked if /dev/null was
			// swapped since: say so rather than a bare ENOENT.
			fd, nerr := openDevNull()
			if nerr != nil {
				return nerr
			}
			unix.Close(fd)
			return fmt.Errorf("mask %s with /dev/null: %w", p, err)
		}
	}
	for _, p := range readonlyPaths {
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("bind %s read-only: %w", p, err)
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		if err := unix.Mount(p, p, "", flags, ""); err != nil {
			return fmt.Errorf("remount %s read-only: %w", p, err)
		}
	}
	return nil
}

// openDevNull opens the container's /dev/null as a path, refusing
// anything but the null character device (1:3).
func openDevNull() (int, error) {
	fd, err := unix.Open("/dev/null", unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /dev/null to mask paths: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		unix.Close(fd)
		return -1, errors.New("/dev/null is not the null device (was it replaced through a volume on /dev?): refusing to mask paths with it")
	}
	return fd, nil
}

// loopbackUp brings up "lo" in the container's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open socket for loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return fmt.Errorf("loopback request: %w", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("read loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring loopback up: %w", err)
	}
	return nil
}
