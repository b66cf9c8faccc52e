package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestChooseSubnet(t *testing.T) {
	pp := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	tests := []struct {
		name       string
		candidates []netip.Prefix
		used       []netip.Prefix
		want       string
		err        error
	}{
		{"empty machine", Candidates, nil, "172.18.0.0/16", nil},
		{"qemu user-net", Candidates, pp("10.0.2.0/24", "10.0.2.15/32"), "172.18.0.0/16", nil},
		{"docker's pools taken", Candidates, pp("172.16.0.0/12"), "10.89.0.0/16", nil},
		{"a route inside a candidate", Candidates, pp("172.18.5.0/24"), "172.19.0.0/16", nil},
		{"a wide route covers candidates", Candidates, pp("172.16.0.0/12", "10.0.0.0/8"), "", ErrNoSubnet},
		{"reserved even when unseen", pp("10.0.0.0/16", "192.168.48.0/20", "192.168.200.0/24"), nil, "192.168.200.0/24", nil},
		{"ipv6 routes ignored", Candidates, pp("fd00::/8"), "172.18.0.0/16", nil},
	}
	for _, tt := range tests {
		got, err := ChooseSubnet(tt.candidates, tt.used)
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
			continue
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestParseSubnet(t *testing.T) {
	good := map[string]string{"172.30.0.0/16": "172.30.0.0/16", " 10.5.1.7/24 ": "10.5.1.0/24"}
	for in, want := range good {
		got, err := ParseSubnet(in)
		if err != nil || got.String() != want {
			t.Errorf("ParseSubnet(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", "172.30.0.0", "fd00::/64", "10.0.0.0/31", "10.0.0.0/7"} {
		if _, err := ParseSubnet(in); err == nil {
			t.Errorf("ParseSubnet(%q) accepted", in)
		}
	}
}

func TestHostsFile(t *testing.T) {
	self := Endpoint{ContainerID: "0123456789abcdef", Name: "web", Hostname: "0123456789ab", IP: netip.MustParseAddr("172.18.0.2")}
	peer := Endpoint{ContainerID: "fedcba9876543210", Name: "db", Hostname: "database", IP: netip.MustParseAddr("172.18.0.3")}
	got := string(HostsFile(self, []Endpoint{self, peer}))
	want := baseHosts + "172.18.0.2\t0123456789ab web\n172.18.0.3\tdatabase db fedcba987654\n"
	if got != want {
		t.Errorf("hosts =\n%s\nwant\n%s", got, want)
	}
	if !strings.HasPrefix(string(BaseHosts()), "127.0.0.1\tlocalhost\n") {
		t.Errorf("base hosts = %q", BaseHosts())
	}

	// Extra hosts come after localhost and before the container's own
	// line, and only in its own file.
	self.ExtraHosts = []Host{{Name: "foo", IP: netip.MustParseAddr("1.2.3.4")}, {Name: "host.docker.internal", IP: netip.MustParseAddr("10.0.2.2")}}
	got = string(HostsFile(self, []Endpoint{self, peer}))
	want = baseHosts + "1.2.3.4\tfoo\n10.0.2.2\thost.docker.internal\n172.18.0.2\t0123456789ab web\n172.18.0.3\tdatabase db fedcba987654\n"
	if got != want {
		t.Errorf("hosts with extra hosts =\n%s\nwant\n%s", got, want)
	}
	if got := string(HostsFile(peer, []Endpoint{self, peer})); strings.Contains(got, "foo") {
		t.Errorf("a peer's hosts file has self's extra hosts:\n%s", got)
	}
	if got, want := string(AddHosts([]byte("127.0.0.1 machine"), self.ExtraHosts[:1])), "127.0.0.1 machine\n1.2.3.4\tfoo\n"; got != want {
		t.Errorf("AddHosts to a file without a final newline = %q, want %q", got, want)
	}
}

func TestDefaultGateway(t *testing.T) {
	const header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	tests := []struct {
		name, table string
		want        string // "" for ErrNoDefaultRoute
	}{
		{"qemu nat", "eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "10.0.2.2"},
		{"lowest metric", "eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\neth0\t00000000\t0202000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n", "10.0.2.2"},
		{"no gateway flag", "eth0\t00000000\t0202000A\t0001\t0\t0\t0\t00000000\t0\t0\t0\n", ""},
		{"route down", "eth0\t00000000\t0202000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n", ""},
		{"subnet routes only", "berth0\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n", ""},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		got, err := defaultGateway(strings.NewReader(header + tc.table))
		switch {
		case tc.want == "" && !errors.Is(err, ErrNoDefaultRoute):
			t.Errorf("%s: got %v, %v; want ErrNoDefaultRoute", tc.name, got, err)
		case tc.want != "" && (err != nil || got.String() != tc.want):
			t.Errorf("%s: got %v, %v; want %s", tc.name, got, err, tc.want)
		}
	}
}

func TestResolvConf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nameserver 10.0.2.3\n", "nameserver 10.0.2.3\n"},
		{"search lan\nnameserver 127.0.0.53\noptions edns0\n", "search lan\noptions edns0\n" + fallbackNameservers},
		{"nameserver ::1\nnameserver 192.168.1.1\n", "nameserver 192.168.1.1\n"},
		{"", fallbackNameservers},
	}
	for _, tt := range tests {
		if got := string(ResolvConf([]byte(tt.in))); got != tt.want {
			t.Errorf("ResolvConf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFragment(t *testing.T) {
	ip := netip.MustParseAddr
	self := Endpoint{ContainerID: "0123456789abcdef", Name: "client", Hostname: "0123456789ab", IP: ip("10.1.0.2"),
		Links: []Link{{Name: "web", Alias: "www"}, {Name: "elsewhere", Alias: "gone"}}}
	web := Endpoint{ContainerID: "fedcba9876543210", Name: "web", Hostname: "fedcba987654", IP: ip("10.1.0.3"), Aliases: []string{"svc", "web"}}
	tests := []struct {
		name  string
		self  Endpoint
		peers []Endpoint
		want  string
	}{
		{"aliases and a link", self, []Endpoint{self, web}, "10.1.0.2\t0123456789ab client\n10.1.0.3\tfedcba987654 web svc\n10.1.0.3\twww\n"},
		{"the link's target sees no alias", web, []Endpoint{self, web}, "10.1.0.3\tfedcba987654 web svc\n10.1.0.2\t0123456789ab client\n"},
		{"alone", self, nil, "10.1.0.2\t0123456789ab client\n"},
	}
	for _, tt := range tests {
		if got := string(Fragment(tt.self, tt.peers)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}
