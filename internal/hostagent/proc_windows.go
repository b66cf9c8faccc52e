//go:build windows

package hostagent

import (
	"net"
	"os"
	"syscall"
	"time"

	"github.com/Microsoft/go-winio"
)

// detached starts the host agent without a console of the caller's.
func detached() *syscall.SysProcAttr {
	const detachedProcess = 0x00000008
	return &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP | detachedProcess}
}

// terminate kills p: Windows has no polite signal for a process without a
// console.
func terminate(p *os.Process) { p.Kill() }

func dialSocket(p string, timeout time.Duration) (net.Conn, error) {
	return winio.DialPipe(p, &timeout)
}
