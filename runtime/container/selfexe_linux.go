package container

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

var sealed struct {
	once sync.Once
	file *os.File
	path string
	err  error
}

// sealedSelf returns a path that executes a sealed, read-only in-memory
// copy of this program. Monitors, inits and exec helpers run from it, so a
// container process that reaches /proc/PID/exe of one of them cannot write
// to the agent's binary (CVE-2019-5736), and upgrading the agent's file does
// not touch running containers.
func sealedSelf() (string, error) {
	if !runsHidden {
		return "", errNoHidden
	}
	sealed.once.Do(func() {
		if target, err := os.Readlink("/proc/self/exe"); err == nil && strings.HasPrefix(target, "/memfd:") {
			sealed.path = "/proc/self/exe"
			return
		}
		sealed.file, sealed.err = copySelfSealed()
		if sealed.err == nil {
			// A path in this process's descriptor table: a child's dup2 of
			// its own descriptors cannot change what it names.
			sealed.path = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), sealed.file.Fd())
		}
	})
	return sealed.path, sealed.err
}

func copySelfSealed() (*os.File, error) {
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("berth-agent", flags|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("berth-agent", flags)
	}
	if err != nil {
		return nil, fmt.Errorf("create sealed copy of the agent: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "berth-agent")
	src, err := os.Open("/proc/self/exe")
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("open the agent's binary: %w", err)
	}
	defer src.Close()
	if _, err := io.Copy(mem, src); err != nil {
		mem.Close()
		return nil, fmt.Errorf("copy the agent's binary: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("seal the agent's copy: %w", err)
	}
	return mem, nil
}
