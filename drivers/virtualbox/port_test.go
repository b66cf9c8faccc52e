package virtualbox

import (
	"net"
	"testing"
)

type listener struct {
	net.Listener
	port int
}

func netListen() (listener, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return listener{}, err
	}
	return listener{l, l.Addr().(*net.TCPAddr).Port}, nil
}

func mustFreePort(t *testing.T) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPortFree(t *testing.T) {
	l, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if portFree(l.port) {
		t.Errorf("portFree(%d) = true while it is listened on", l.port)
	}
	if portFree(0) {
		t.Error("portFree(0) = true")
	}
	if p := mustFreePort(t); !portFree(p) {
		t.Errorf("freePort gave %d, which is not free", p)
	}
}
