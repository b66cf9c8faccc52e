// Package hostport picks TCP ports on the user's host for forwards to
// machines.
//
// Ports come from 20000-32767, below the ephemeral ranges of Linux
// (32768-60999), macOS and Windows (49152-65535): a forward port picked
// there is not taken by the source port of some program's outgoing
// connection between one start of a machine and the next, so a machine
// keeps its port across restarts.
package hostport

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
)

// The range ports are picked from.
const (
	First = 20000
	Last  = 32767
)

// tries bounds the search for a free port.
const tries = 200

// Free reports whether port on 127.0.0.1 can be listened on now.
func Free(port int) bool {
	if port <= 0 || port > 65535 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// Listen reports why proto ("tcp" or "udp") port on ip cannot be
// listened on now; nil when it is free.
func Listen(proto, ip string, port int) error {
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	if proto == "udp" {
		pc, err := net.ListenPacket("udp", addr)
		if err == nil {
			pc.Close()
		}
		return err
	}
	l, err := net.Listen("tcp", addr)
	if err == nil {
		l.Close()
	}
	return err
}

// Pick returns a free port on 127.0.0.1 from the range, chosen at random so
// that berth processes creating machines at once rarely pick the same one.
func Pick() (int, error) {
	for range tries {
		p := First + rand.IntN(Last-First+1)
		if Free(p) {
			return p, nil
		}
	}
	return 0, errors.New("find a free port on 127.0.0.1: " + fmt.Sprint(tries) + " ports between " +
		strconv.Itoa(First) + " and " + strconv.Itoa(Last) + " were all taken")
}

// Keep returns preferred when it is still free, else a new free port.
func Keep(preferred int) (int, error) {
	if Free(preferred) {
		return preferred, nil
	}
	return Pick()
}
