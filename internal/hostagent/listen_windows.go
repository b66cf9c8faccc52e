//go:build windows

package hostagent

import (
	"fmt"
	"net"
	"time"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

// dialWait bounds how long a client connection waits for the host agent
// to (re)connect to the machine.
const dialWait = 30 * time.Second

// listen makes the host agent's named pipe, which only this user may
// open.
func listen(dir string) (net.Listener, error) {
	tok := windows.GetCurrentProcessToken()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, fmt.Errorf("find the current user: %w", err)
	}
	sddl := "D:P(A;;GA;;;" + u.User.Sid.String() + ")"
	p := SocketPath(dir)
	ln, err := winio.ListenPipe(p, &winio.PipeConfig{SecurityDescriptor: sddl})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", p, err)
	}
	return ln, nil
}

func removeSocket(string) {}
