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
