package container

import (
	"bytes"
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
// copy of the program that runs the hidden commands: the helper the first
// Runtime was given (WithHelper), else this program. Monitors, inits and
// exec helpers run from it, so a container process that reaches
// /proc/PID/exe of one of them cannot write to the agent's binary
// (CVE-2019-5736), and upgrading the agent's file does not touch running
// containers.
func sealedSelf() (string, error) {
	return seal(nil)
}

// seal makes the sealed copy once per process: of helper, or of this
// program when helper is nil. Later calls return the first copy.
func seal(helper []byte) (string, error) {
	sealed.once.Do(func() {
		if helper == nil {
			if !runsHidden {
				sealed.err = errNoHidden
				return
			}
			if target, err := os.Readlink("/proc/self/exe"); err == nil && strings.HasPrefix(target, "/memfd:") {
				// A monitor: it is the sealed copy.
				sealed.path = "/proc/self/exe"
				return
			}
		}
		sealed.file, sealed.err = copySealed(helper)
		if sealed.err == nil {
			// A path in this process's descriptor table: a child's dup2 of
			// its own descriptors cannot change what it names.
			sealed.path = fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), sealed.file.Fd())
		}
	})
	return sealed.path, sealed.err
}

// copySealed copies helper, or this program's binary when helper is nil,
// to a sealed memory file.
func copySealed(helper []byte) (*os.File, error) {
	const flags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate("berth-agent", flags|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate("berth-agent", flags)
	}
	if err != nil {
		return nil, fmt.Errorf("create sealed copy of the agent: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "berth-agent")
	var src io.Reader = bytes.NewReader(helper)
	if helper == nil {
		f, err := os.Open("/proc/self/exe")
		if err != nil {
			mem.Close()
			return nil, fmt.Errorf("open the agent's binary: %w", err)
		}
		defer f.Close()
		src = f
	}
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
