//go:build !windows

package hostagent

import (
	"net"
	"os"
	"syscall"
	"time"
)

// detached makes the host agent a session of its own, so that closing the
// terminal that started it does not end it.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

func terminate(p *os.Process) { p.Signal(syscall.SIGTERM) }

func dialSocket(p string, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("unix", p, timeout)
}
