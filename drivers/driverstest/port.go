package driverstest

import (
	"net"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostport"
)

// freePort returns a port of proto ("tcp" or "udp") on 127.0.0.1 that was
// free a moment ago.
func freePort(t testing.TB, proto string) int {
	t.Helper()
	if proto == "udp" {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		return pc.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// held reports whether f's host port is taken (by the forward).
func held(f drivers.Forward) bool { return hostport.Listen(f.Proto, f.HostIP, f.HostPort) != nil }
