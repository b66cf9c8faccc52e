package forwards

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
)

// TestTakenPortNamesHolder: on Linux the error for a taken host port names
// the process that holds it, here this test.
func TestTakenPortNamesHolder(t *testing.T) {
	comm := filepath.Base(os.Args[0])
	if len(comm) > 15 {
		comm = comm[:15]
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	uport := pc.LocalAddr().(*net.UDPAddr).Port
	for _, f := range []drivers.Forward{
		{Proto: "tcp", HostIP: "127.0.0.1", HostPort: port, GuestPort: port},
		{Proto: "udp", HostIP: "127.0.0.1", HostPort: uport, GuestPort: uport},
	} {
		err := HostPortFree(f)
		want := fmt.Sprintf("host port 127.0.0.1:%d/%s is taken by %s (pid %d) on this computer", f.HostPort, f.Proto, comm, os.Getpid())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("HostPortFree(%+v) = %v; want an error with %q", f, err, want)
		}
	}
	l.Close()
	if err := HostPortFree(drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: port}); err != nil {
		t.Errorf("HostPortFree of a freed port = %v", err)
	}
}
