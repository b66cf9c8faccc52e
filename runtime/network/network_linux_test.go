package network

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testhttp"
	"github.com/berthvm/berth/internal/testnetns"
)

// inNewNetns starts busybox with args in a network namespace of its own
// (a stand-in for a container's init); its stdin is returned so a test
// can let it go on once the network is attached.
func inNewNetns(t *testing.T, args ...string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command("/bin/busybox", args...)
	// A mount namespace too (made private by Go), for a stand-in that
	// binds its own /etc/hosts.
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Unshareflags: syscall.CLONE_NEWNS, Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s: %s", strings.Join(args, " "), out.String())
		}
	})
	return cmd, in
}

func needBusybox(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		testenv.Skip(t, "busybox-static is not installed (make test installs it: scripts/deps.sh)")
	}
}

// webRoot is a folder with index.html holding body.
func webRoot(t *testing.T, body string) string {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte(body), 0o644)
	return dir
}

func endpoint(t *testing.T, id, name string) Endpoint {
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, BaseHosts(), 0o644)
	return Endpoint{ContainerID: id, Name: name, Hostname: ShortID(id), HostsFile: hosts}
}

// TestBridgeNetwork sets the network up twice (idempotent), attaches two
// stand-in containers, reaches one from the machine and from the other
// by the name in its hosts file, reaches a server outside the subnet
// only through masquerading, and detaches.
func TestBridgeNetwork(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	needBusybox(t)
	ctx := context.Background()
	dir := t.TempDir()
	n, err := Open(ctx, dir, Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := n.Config()
	if cfg.Subnet.String() != "172.18.0.0/16" || cfg.Gateway.String() != "172.18.0.1" || cfg.Bridge != "berth0" || cfg.Name != "bridge" {
		t.Fatalf("config = %+v, want bridge berth0 172.18.0.0/16 via 172.18.0.1", cfg)
	}
	// Again, as a restarted agent: same subnet, one table, one rule.
	if n, err = Open(ctx, dir, Config{}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n.Config(), cfg) {
		t.Errorf("second Open = %+v, want %+v", n.Config(), cfg)
	}
	checkNAT(t, 1)
	br, err := netlink.LinkByName("berth0")
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "172.18.0.1/16" {
		t.Errorf("berth0 addresses = %v, want 172.18.0.1/16", addrs)
	}
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); strings.TrimSpace(string(b)) != "1" {
		t.Errorf("ip_forward = %q", b)
	}

	// A server outside the subnet, in a third namespace that has no
	// route back to it: only masqueraded traffic gets an answer.
	outside, _ := inNewNetns(t, "httpd", "-f", "-p", "8080", "-h", webRoot(t, "outside\n"))
	uplink(t, outside.Process.Pid)

	web, _ := inNewNetns(t, "httpd", "-f", "-p", "80", "-h", webRoot(t, "hello from web\n"))
	webEP := endpoint(t, "aaaaaaaaaaaa1111", "web")
	webAtt, err := n.Attach(ctx, webEP, web.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	want := Attachment{Network: "bridge", IP: netip.MustParseAddr("172.18.0.2"), PrefixLen: 16, Gateway: cfg.Gateway, MAC: "02:42:ac:12:00:02", HostLink: webAtt.HostLink, Dir: dir}
	if webAtt != want || webAtt.HostLink == 0 {
		t.Errorf("attachment = %+v, want %+v", webAtt, want)
	}
	if body, err := testhttp.Get("http://172.18.0.2/", 5*time.Second); err != nil || body != "hello from web\n" {
		t.Errorf("GET web from the machine = %q, %v", body, err)
	}

	clientEP := endpoint(t, "bbbbbbbbbbbb2222", "client")
	client, in := inNewNetns(t, "sh", "-c", "mount --bind "+clientEP.HostsFile+" /etc/hosts && read x && wget -qO- http://web/ && wget -qO- http://198.51.100.2:8080/")
	catt, err := n.Attach(ctx, clientEP, client.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if catt.IP.String() != "172.18.0.3" {
		t.Errorf("second address = %s, want 172.18.0.3", catt.IP)
	}
	hosts, _ := os.ReadFile(webEP.HostsFile)
	if !strings.Contains(string(hosts), "172.18.0.3\tbbbbbbbbbbbb client\n") || !strings.Contains(string(hosts), "172.18.0.2\taaaaaaaaaaaa web\n") {
		t.Errorf("web's hosts file misses an entry:\n%s", hosts)
	}
	in.Write([]byte("go\n"))
	done := make(chan error, 1)
	go func() { done <- client.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("client: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Error("client did not finish in 20s")
	}
	out := client.Stdout.(*strings.Builder).String()
	if !strings.HasPrefix(out, "hello from web\noutside\n") {
		t.Errorf("client printed %q, want web's page then the outside server's", out)
	}

	// The store survives: a monitor's Load sees both endpoints.
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := m.Endpoints()
	if err != nil || len(eps) != 2 || eps[0].Name != "web" || eps[1].Name != "client" {
		t.Errorf("endpoints after Load = %+v, %v", eps, err)
	}
	if err := m.Detach(ctx, webEP.ContainerID); err != nil {
		t.Fatal(err)
	}
	m.Unplug(webEP.ContainerID, webAtt.HostLink+1000)
	if _, err := netlink.LinkByName(m.hostVeth(webEP.ContainerID)); err != nil {
		t.Errorf("Unplug with another run's link index removed %s: %v", m.hostVeth(webEP.ContainerID), err)
	}
	m.Unplug(webEP.ContainerID, webAtt.HostLink)
	if _, err := netlink.LinkByName(m.hostVeth(webEP.ContainerID)); err == nil {
		t.Errorf("%s is left after Unplug", m.hostVeth(webEP.ContainerID))
	}
	hosts, _ = os.ReadFile(clientEP.HostsFile)
	if strings.Contains(string(hosts), "web") {
		t.Errorf("client's hosts file still names web after it left:\n%s", hosts)
	}
	// The freed address is the next one given.
	again, _ := inNewNetns(t, "sleep", "30")
	att, err := m.Attach(ctx, endpoint(t, "cccccccccccc3333", "again"), again.Process.Pid)
	if err != nil || att.IP.String() != "172.18.0.2" {
		t.Errorf("attach after detach = %s, %v; want the freed 172.18.0.2", att.IP, err)
	}
	// Prune forgets the ones not running.
	if err := m.Prune(func(id string) bool { return id == clientEP.ContainerID }); err != nil {
		t.Fatal(err)
	}
	if eps, _ := m.Endpoints(); len(eps) != 1 || eps[0].Name != "client" {
		t.Errorf("endpoints after prune = %+v, want only client", eps)
	}

	// A configured subnet (--bridge-subnet) replaces the chosen one: the
	// bridge's address moves, addresses of the old subnet are forgotten,
	// and a later Open without one keeps it.
	sub := netip.MustParsePrefix("10.123.4.0/24")
	for i, want := range []netip.Prefix{sub, {}} {
		n, err := Open(ctx, dir, Config{Subnet: want})
		if err != nil {
			t.Fatal(err)
		}
		if n.Config().Subnet != sub || n.Config().Gateway.String() != "10.123.4.1" {
			t.Errorf("Open %d: config %+v, want %s via 10.123.4.1", i, n.Config(), sub)
		}
	}
	addrs, _ = netlink.AddrList(br, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != "10.123.4.1/24" {
		t.Errorf("berth0 addresses after the subnet changed = %v, want 10.123.4.1/24 only", addrs)
	}
	if eps, _ := m.Endpoints(); len(eps) != 0 {
		t.Errorf("endpoints of the old subnet kept: %+v", eps)
	}
	checkNAT(t, 1)
}

// checkNAT checks that table ip berth has one chain with want rules.
func checkNAT(t *testing.T, want int) {
	t.Helper()
	c, err := nftables.New()
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	var found *nftables.Table
	for _, tb := range tables {
		if tb.Name == natTable {
			found = tb
		}
	}
	if found == nil {
		t.Fatalf("no table ip %s", natTable)
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv4)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ch := range chains {
		if ch.Table.Name != natTable {
			continue
		}
		n++
		rules, err := c.GetRules(found, ch)
		if err != nil || len(rules) != want {
			t.Errorf("chain %s has %d rules (%v), want %d", ch.Name, len(rules), err, want)
		}
	}
	if n != 1 {
		t.Errorf("table ip %s has %d chains, want 1", natTable, n)
	}
}

// uplink joins this namespace to pid's with a veth pair on
// 198.51.100.0/24 (this side .1, pid's .2), pid's side with no route
// to the bridge subnet.
func uplink(t *testing.T, pid int) {
	t.Helper()
	la := netlink.NewLinkAttrs()
	la.Name = "uplink0"
	if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: "eth0", PeerNamespace: netlink.NsPid(pid)}); err != nil {
		t.Fatal(err)
	}
	up, _ := netlink.LinkByName("uplink0")
	must(t, netlink.AddrAdd(up, &netlink.Addr{IPNet: mustNet("198.51.100.1/24")}))
	must(t, netlink.LinkSetUp(up))
	ns, err := netns.GetFromPid(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	eth, err := h.LinkByName("eth0")
	if err != nil {
		t.Fatal(err)
	}
	must(t, h.AddrAdd(eth, &netlink.Addr{IPNet: mustNet("198.51.100.2/24")}))
	must(t, h.LinkSetUp(eth))
}

func mustNet(s string) *net.IPNet {
	ip, n, err := net.ParseCIDR(s)
	if err != nil {
		panic(err)
	}
	n.IP = ip
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
