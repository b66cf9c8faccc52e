package portholder

import (
	"bufio"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tcpListen is the socket state LISTEN in /proc/net/tcp{,6}.
const tcpListen = "0A"

// find reads the sockets bound to port from /proc/net/{tcp,udp}{,6}, then
// looks for a process with one of their inodes among its open files.
func find(proto, ip string, port int) (Holder, bool) {
	want := net.ParseIP(ip)
	if proto != "udp" {
		proto = "tcp"
	}
	inodes := map[string]int{} // socket inode -> owner uid
	for _, table := range []string{proto, proto + "6"} {
		f, err := os.Open("/proc/net/" + table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // the heading
		for sc.Scan() {
			s, ok := parseSocket(sc.Text())
			if !ok || s.port != port || (proto == "tcp" && s.state != tcpListen) || !sameAddress(s.ip, want) {
				continue
			}
			inodes[s.inode] = s.uid
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return Holder{}, false
	}
	if h, ok := processWith(inodes); ok {
		return h, true
	}
	for _, uid := range inodes {
		return Holder{UID: uid}, true
	}
	return Holder{}, false
}

// socket is one line of /proc/net/tcp and its kin.
type socket struct {
	ip    net.IP
	port  int
	state string
	uid   int
	inode string
}

// parseSocket reads a line such as
//
//	0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 43210 1 ...
func parseSocket(line string) (socket, bool) {
	f := strings.Fields(line)
	if len(f) < 10 {
		return socket{}, false
	}
	addr, portHex, ok := strings.Cut(f[1], ":")
	if !ok {
		return socket{}, false
	}
	port, err := strconv.ParseUint(portHex, 16, 16)
	if err != nil {
		return socket{}, false
	}
	ip, ok := parseAddress(addr)
	if !ok {
		return socket{}, false
	}
	uid, err := strconv.Atoi(f[7])
	if err != nil {
		uid = -1
	}
	return socket{ip: ip, port: int(port), state: f[3], uid: uid, inode: f[9]}, true
}

// parseAddress decodes the kernel's hex address: 32-bit words in host
// (little-endian on every architecture berth runs on) byte order.
func parseAddress(s string) (net.IP, bool) {
	b, err := hex.DecodeString(s)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return nil, false
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	return net.IP(b), true
}

// sameAddress reports whether a socket bound to have takes want: equal
// addresses, or either side unspecified (0.0.0.0, ::, or no address).
func sameAddress(have, want net.IP) bool {
	return want == nil || want.IsUnspecified() || have.IsUnspecified() || have.Equal(want)
}

// processWith finds a process that has one of inodes open, by reading
// the links in /proc/PID/fd (only those this user may read).
func processWith(inodes map[string]int) (Holder, bool) {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		fds, err := os.ReadDir(filepath.Join(p, "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(p, "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			uid, ok := inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")]
			if !ok {
				continue
			}
			pid, _ := strconv.Atoi(filepath.Base(p))
			comm, _ := os.ReadFile(filepath.Join(p, "comm"))
			return Holder{PID: pid, Command: strings.TrimSpace(string(comm)), UID: uid}, true
		}
	}
	return Holder{}, false
}
