package network

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"
)

// fallbackNameservers are used when the machine has none a container can
// reach (Docker does the same).
const fallbackNameservers = "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"

// ResolvConf is a bridge container's /etc/resolv.conf made from the
// machine's: the same nameservers (reached through NAT; QEMU's 10.0.2.3
// and VirtualBox's 10.0.2.3 are), search and options, without loopback
// nameservers (a local stub resolver is not reachable from the container's
// own network namespace). With no nameserver left, Google's public ones.
func ResolvConf(machine []byte) []byte {
	var out bytes.Buffer
	servers := 0
	sc := bufio.NewScanner(bytes.NewReader(machine))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			ip, err := netip.ParseAddr(f[1])
			if err != nil || ip.IsLoopback() {
				continue
			}
			servers++
		}
		out.WriteString(line + "\n")
	}
	if servers == 0 {
		out.WriteString(fallbackNameservers)
	}
	return out.Bytes()
}
