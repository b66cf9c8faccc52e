package forwards

import (
	"fmt"
	"net"
	"strconv"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/portholder"
)

// HostPortFree checks that f's port on the user's host is free, with an
// error that names who holds it when the OS can tell and says what to do.
func HostPortFree(f drivers.Forward) error {
	if err := portFree(f); err != nil {
		who := "another program or container"
		if h, ok := portholder.Find(f.Proto, f.HostIP, f.HostPort); ok {
			who = h.String()
		}
		return fmt.Errorf("host port %s/%s is taken by %s on this computer: publish on another one (-p OTHERPORT:CONTAINERPORT) or stop that program: %w",
			net.JoinHostPort(f.HostIP, strconv.Itoa(f.HostPort)), f.Proto, who, err)
	}
	return nil
}

// portFree tries to listen on f's host port: nil when it is free.
func portFree(f drivers.Forward) error { return hostport.Listen(f.Proto, f.HostIP, f.HostPort) }
