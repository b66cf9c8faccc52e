package runspec

import (
	"errors"
	"strconv"
	"testing"
)

// FuzzPortSpec feeds arbitrary -p values to the parser: it may refuse
// them (with ErrInvalid), never panic, and what it accepts is a valid
// binding: ports in range, tcp or udp, an IP address or none.
func FuzzPortSpec(f *testing.F) {
	for _, s := range []string{"80", "8080:80", "127.0.0.1:8080:80/udp", "[::1]:80:80", "127.0.0.1::80", "8000-8001:80-81", "1-65535", "::80", "[::1]80", "80/sctp", "0:0", "65536", "a:b:c:d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		exposed, bindings, err := portBindings([]string{s})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("-p %q: error %v is not ErrInvalid", s, err)
			}
			return
		}
		if len(exposed) == 0 || len(exposed) != len(bindings) {
			t.Errorf("-p %q accepted: %d exposed ports, %d bound", s, len(exposed), len(bindings))
		}
		for port, bs := range bindings {
			if port.Num() == 0 || (port.Proto() != "tcp" && port.Proto() != "udp") {
				t.Errorf("-p %q gave container port %v", s, port)
			}
			for _, b := range bs {
				if b.HostPort == "" {
					continue
				}
				if n, err := strconv.Atoi(b.HostPort); err != nil || n < 1 || n > 65535 {
					t.Errorf("-p %q gave host port %q", s, b.HostPort)
				}
			}
		}
	})
}
