package network

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// ErrNoDefaultRoute is returned by DefaultGateway when the machine has
// no IPv4 default route through a gateway.
var ErrNoDefaultRoute = errors.New("no IPv4 default route through a gateway")

// DefaultGateway is the gateway of the machine's IPv4 default route (the
// one of lowest metric), read from /proc/net/route. Under QEMU's and
// VirtualBox's NAT it is the user's host (10.0.2.2).
func DefaultGateway() (netip.Addr, error) {
	f, err := os.Open("/proc/net/route")
	if err != nil {
		return netip.Addr{}, fmt.Errorf("read routes: %w", err)
	}
	defer f.Close()
	return defaultGateway(f)
}

// defaultGateway reads a /proc/net/route table: Iface, Destination,
// Gateway, Flags, RefCnt, Use, Metric, Mask, ...; addresses are hex of
// the 32-bit value in the machine's byte order.
func defaultGateway(r io.Reader) (netip.Addr, error) {
	const rtfUp, rtfGateway = 0x1, 0x2
	var best netip.Addr
	bestMetric := uint64(math.MaxUint64)
	sc := bufio.NewScanner(r)
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		gw, err2 := strconv.ParseUint(f[2], 16, 32)
		metric, err3 := strconv.ParseUint(f[6], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || gw == 0 {
			continue
		}
		if metric < bestMetric {
			var b [4]byte
			binary.NativeEndian.PutUint32(b[:], uint32(gw))
			best, bestMetric = netip.AddrFrom4(b), metric
		}
	}
	if err := sc.Err(); err != nil {
		return netip.Addr{}, fmt.Errorf("read routes: %w", err)
	}
	if !best.IsValid() {
		return netip.Addr{}, ErrNoDefaultRoute
	}
	return best, nil
}
