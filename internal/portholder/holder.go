// Package portholder names the program that holds a port on this
// computer, for errors that tell the user who took a port berth wants.
package portholder

import (
	"fmt"
	"os/user"
	"strconv"
)

// Holder is a process that has a socket bound to a port.
type Holder struct {
	// PID and Command name the process; PID is 0 when the socket is seen
	// but not its process (another user's, without the right to look).
	PID     int
	Command string
	// UID owns the socket; -1 when unknown.
	UID int
}

// String says who the holder is: "nginx (pid 1234)", or "a program of
// user www-data (uid 33)" when only the socket's owner is known.
func (h Holder) String() string {
	if h.PID > 0 {
		return fmt.Sprintf("%s (pid %d)", h.Command, h.PID)
	}
	name := strconv.Itoa(h.UID)
	if u, err := user.LookupId(name); err == nil {
		name = u.Username
	}
	return fmt.Sprintf("a program of user %s (uid %d)", name, h.UID)
}

// Find looks for the process holding port of proto ("tcp" or "udp") on
// ip (an address of this computer; "" or an unspecified address matches
// any). For tcp only listening sockets count. ok is false when this
// operating system cannot tell (only Linux can) or nothing was found.
func Find(proto, ip string, port int) (h Holder, ok bool) {
	return find(proto, ip, port)
}
