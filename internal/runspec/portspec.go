package runspec

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/network"
)

// publishSpec is one container port of a -p value.
type publishSpec struct {
	HostIP        string // "" = the driver's default (127.0.0.1)
	HostPort      int    // 0 = the agent picks
	ContainerPort int
	Proto         string
}

// parsePublish reads docker's -p forms: CPORT, HPORT:CPORT, IP:HPORT:CPORT,
// IP::CPORT, [V6]:HPORT:CPORT, each with /tcp or /udp, and equal-length
// ranges (8000-8001:80-81).
func parsePublish(s string) ([]publishSpec, error) {
	bad := func(why string) error {
		return invalidf("invalid -p %q: %s (want [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp])", s, why)
	}
	rest, proto, hasProto := strings.Cut(s, "/")
	if !hasProto {
		proto = "tcp"
	}
	proto = strings.ToLower(proto)
	if proto != "tcp" && proto != "udp" {
		return nil, bad("protocol " + strconv.Quote(proto) + " is not tcp or udp")
	}
	var ip, hostPart, ctrPart string
	if strings.HasPrefix(rest, "[") {
		end := strings.Index(rest, "]:")
		if end < 0 {
			return nil, bad("an IPv6 address needs [ADDR]:HOSTPORT:CONTAINERPORT")
		}
		ip = rest[1:end]
		var ok bool
		if hostPart, ctrPart, ok = strings.Cut(rest[end+2:], ":"); !ok {
			return nil, bad("no container port")
		}
	} else {
		parts := strings.Split(rest, ":")
		switch len(parts) {
		case 1:
			ctrPart = parts[0]
		case 2:
			hostPart, ctrPart = parts[0], parts[1]
		case 3:
			ip, hostPart, ctrPart = parts[0], parts[1], parts[2]
		default:
			return nil, bad("too many colons")
		}
	}
	if ip != "" {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return nil, bad("host address " + strconv.Quote(ip) + " is not an IP address")
		}
		ip = a.String()
	}
	cLo, cHi, err := portRange(ctrPart)
	if err != nil {
		return nil, bad("container port: " + err.Error())
	}
	hLo, hHi := 0, 0
	if hostPart != "" {
		if hLo, hHi, err = portRange(hostPart); err != nil {
			return nil, bad("host port: " + err.Error())
		}
		if hHi-hLo != cHi-cLo {
			return nil, bad("the host and container port ranges differ in length")
		}
	}
	var out []publishSpec
	for i := 0; i <= cHi-cLo; i++ {
		p := publishSpec{HostIP: ip, ContainerPort: cLo + i, Proto: proto}
		if hLo != 0 {
			p.HostPort = hLo + i
		}
		out = append(out, p)
	}
	return out, nil
}

// portRange reads "80" or "8000-8010".
func portRange(s string) (int, int, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	a, err := portNumber(lo)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return a, a, nil
	}
	b, err := portNumber(hi)
	if err != nil {
		return 0, 0, err
	}
	if b < a {
		return 0, 0, fmt.Errorf("range %s ends before it starts", s)
	}
	return a, b, nil
}

func portNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port from 1 to 65535", s)
	}
	return n, nil
}

// portBindings turns -p values into the API's exposed ports and bindings.
func portBindings(specs []string) (network.PortSet, network.PortMap, error) {
	exposed, bindings := network.PortSet{}, network.PortMap{}
	for _, s := range specs {
		ps, err := parsePublish(s)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range ps {
			port, _ := network.PortFrom(uint16(p.ContainerPort), network.IPProtocol(p.Proto))
			exposed[port] = struct{}{}
			b := network.PortBinding{}
			if p.HostIP != "" {
				b.HostIP = netip.MustParseAddr(p.HostIP)
			}
			if p.HostPort != 0 {
				b.HostPort = strconv.Itoa(p.HostPort)
			}
			bindings[port] = append(bindings[port], b)
		}
	}
	return exposed, bindings, nil
}
