package virtualbox

import (
	"net"
	"testing"

	"github.com/berthvm/berth/internal/hostport"
)

func mustFreePort(t *testing.T) int {
	t.Helper()
	p, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// takenPort holds a port on 127.0.0.1 until Close.
type takenPort struct {
	net.Listener
	port int
}

func netListen() (takenPort, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return takenPort{}, err
	}
	return takenPort{l, l.Addr().(*net.TCPAddr).Port}, nil
}
