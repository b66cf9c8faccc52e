package virtualbox

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/virtualboxtest"
)

func TestParseHostOnlyCIDR(t *testing.T) {
	tests := []struct {
		in      string
		wantErr string
		dhcp    dhcpConfig
	}{
		{in: "192.168.59.1/24", dhcp: dhcpConfig{ServerIP: "192.168.59.2", Mask: "255.255.255.0", Lower: "192.168.59.128", Upper: "192.168.59.254"}},
		{in: "192.168.56.2/24", dhcp: dhcpConfig{ServerIP: "192.168.56.1", Mask: "255.255.255.0", Lower: "192.168.56.128", Upper: "192.168.56.254"}},
		{in: "192.168.63.1/28", dhcp: dhcpConfig{ServerIP: "192.168.63.2", Mask: "255.255.255.240", Lower: "192.168.63.8", Upper: "192.168.63.14"}},
		{in: "192.168.56.1/21", dhcp: dhcpConfig{ServerIP: "192.168.56.2", Mask: "255.255.248.0", Lower: "192.168.60.0", Upper: "192.168.63.254"}},
		{in: "192.168.99.1/24", wantErr: "only allow host-only networks inside 192.168.56.0/21"},
		{in: "192.168.56.1/20", wantErr: "only allow"},
		{in: "10.0.0.1/24", wantErr: "only allow"},
		{in: "192.168.59.0/24", wantErr: "network's own or broadcast"},
		{in: "192.168.59.255/24", wantErr: "network's own or broadcast"},
		{in: "192.168.59.1/30", wantErr: "too small"},
		{in: "192.168.59.1", wantErr: "want an IPv4 host address"},
		{in: "fd00::1/64", wantErr: "want an IPv4 host address"},
	}
	for _, tt := range tests {
		h, err := parseHostOnlyCIDR(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseHostOnlyCIDR(%q) error = %v; want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseHostOnlyCIDR(%q) = %v", tt.in, err)
			continue
		}
		if got := h.dhcp(); got != tt.dhcp {
			t.Errorf("dhcp of %s = %+v; want %+v", tt.in, got, tt.dhcp)
		}
	}
}

func TestCheckCollision(t *testing.T) {
	want, _ := parseHostOnlyCIDR("192.168.59.1/24")
	p := netip.MustParsePrefix
	tests := []struct {
		name    string
		ifaces  []hostIface
		vbox    map[string]bool
		wantErr string
	}{
		{"no overlap", []hostIface{{Name: "eth0", Up: true, Addrs: []netip.Prefix{p("10.0.0.5/24")}}, {Name: "lo", Up: true, Addrs: []netip.Prefix{p("127.0.0.1/8")}}}, nil, ""},
		{"same /24 on wifi", []hostIface{{Name: "wlan0", Up: true, Addrs: []netip.Prefix{p("192.168.59.23/24")}}}, nil, "collides with 192.168.59.0/24 on host interface wlan0"},
		{"wider VPN route", []hostIface{{Name: "tun0", Up: true, Addrs: []netip.Prefix{p("192.168.0.10/16")}}}, nil, "collides with 192.168.0.0/16 on host interface tun0"},
		{"down interface is fine", []hostIface{{Name: "wlan0", Up: false, Addrs: []netip.Prefix{p("192.168.59.23/24")}}}, nil, ""},
		{"our own adapter is fine", []hostIface{{Name: "vboxnet0", Up: true, Addrs: []netip.Prefix{p("192.168.59.1/24")}}}, map[string]bool{"vboxnet0": true}, ""},
		{"another net inside the range", []hostIface{{Name: "eth1", Up: true, Addrs: []netip.Prefix{p("192.168.58.1/24")}}}, nil, ""},
	}
	for _, tt := range tests {
		err := checkCollision(want, tt.ifaces, tt.vbox)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("%s: checkCollision = %v; want %q", tt.name, err, tt.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "--virtualbox-hostonly-cidr") {
			t.Errorf("%s: error %q does not say what to do", tt.name, err)
		}
	}
}

func TestEnsureHostOnlyThroughDouble(t *testing.T) {
	for _, ver := range []string{"5.2.8r121009", "6.1.38r153438", "7.1.12r169651"} {
		t.Run(ver, func(t *testing.T) {
			d := New(drivers.Base{MachineName: "dev", Dir: t.TempDir(), CacheDir: t.TempDir()})
			d.Manager.Runner = &virtualboxtest.InProcess{Env: map[string]string{"VBOXDOUBLE_HOME": t.TempDir(), "VBOXDOUBLE_VERSION": ver}}
			h, _ := parseHostOnlyCIDR("192.168.59.1/24")
			ctx := context.Background()
			name, err := d.ensureHostOnly(ctx, h)
			if err != nil || name != "vboxnet0" {
				t.Fatalf("ensureHostOnly = %q, %v; want vboxnet0", name, err)
			}
			// Again: the adapter and its DHCP server are reused.
			if name, err := d.ensureHostOnly(ctx, h); err != nil || name != "vboxnet0" {
				t.Fatalf("ensureHostOnly again = %q, %v; want vboxnet0", name, err)
			}
			out, err := d.vbox().Run(ctx, listHostOnlyIfsArgs()...)
			if ifs := parseHostOnlyIfs(out); err != nil || len(ifs) != 1 || ifs[0].IPAddress != "192.168.59.1" {
				t.Errorf("host-only adapters = %+v, %v; want one with 192.168.59.1", ifs, err)
			}
			out, err = d.vbox().Run(ctx, listDHCPServersArgs()...)
			want := dhcpServer{NetworkName: "HostInterfaceNetworking-vboxnet0", dhcpConfig: h.dhcp(), Enabled: true}
			if srvs := parseDHCPServers(out); err != nil || len(srvs) != 1 || srvs[0] != want {
				t.Errorf("DHCP servers = %+v, %v; want %+v", srvs, err, want)
			}
			// A different network gets a second adapter.
			h2, _ := parseHostOnlyCIDR("192.168.60.1/24")
			if name, err := d.ensureHostOnly(ctx, h2); err != nil || name != "vboxnet1" {
				t.Errorf("ensureHostOnly(second network) = %q, %v; want vboxnet1", name, err)
			}
		})
	}
}
