package hostport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickInRangeAndFree(t *testing.T) {
	for range 20 {
		p, err := Pick()
		if err != nil {
			t.Fatal(err)
		}
		if p < First || p > Last {
			t.Fatalf("Pick() = %d, want a port in %d-%d", p, First, Last)
		}
		if !Free(p) {
			t.Fatalf("Pick() = %d, which is not free", p)
		}
	}
}

func TestKeep(t *testing.T) {
	p, err := Pick()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Keep(p); err != nil || got != p {
		t.Fatalf("Keep(%d) with the port free = %d, %v; want %d", p, got, err, p)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if Free(p) {
		t.Fatalf("Free(%d) = true while a listener holds it", p)
	}
	if got, err := Keep(p); err != nil || got == p {
		t.Fatalf("Keep(%d) with the port taken = %d, %v; want another port", p, got, err)
	}
}

func TestFreeRefusesBadPorts(t *testing.T) {
	for _, p := range []int{-1, 0, 65536} {
		if Free(p) {
			t.Errorf("Free(%d) = true, want false", p)
		}
	}
}

// TestListen: a port someone listens on is refused with the reason, for
// TCP and UDP, and is free again once closed.
func TestListen(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if Listen("tcp", "127.0.0.1", port) == nil {
		t.Error("a TCP port in use was reported free")
	}
	l.Close()
	if err := Listen("tcp", "127.0.0.1", port); err != nil {
		t.Errorf("a closed TCP port: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if Listen("udp", "127.0.0.1", pc.LocalAddr().(*net.UDPAddr).Port) == nil {
		t.Error("a UDP port in use was reported free")
	}
}
