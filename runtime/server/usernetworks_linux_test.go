package server

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testnetns"
	berthnet "github.com/berthvm/berth/runtime/network"
)

// httpdScript serves "hello NAME" on port 80.
func httpdScript(name string) []string {
	return []string{"sh", "-c", "mkdir /w && echo hello " + name + " > /w/index.html && exec httpd -f -p 80 -h /w"}
}

// wgetWithin3s is a shell command that fetches url or gives up after 3
// seconds: under a shell that stays, as the container's pid 1 ignores
// timeout's SIGTERM.
func wgetWithin3s(url string) string { return "timeout 3 wget -qO- " + url + "; exit $?" }

// TestDockerCLIUserNetworks drives docker network create, ls, inspect,
// connect, disconnect, rm and prune with the real docker CLI, and checks
// that names, aliases and links resolve on a network, also for
// containers made later and never for removed ones, and that two
// networks cannot reach each other.
func TestDockerCLIUserNetworks(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	run := func(args ...string) (string, string, int) {
		return docker(t, a.sock, "", args...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d: %s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	fails := func(wantErr string, args ...string) {
		t.Helper()
		out, errOut, code := run(args...)
		if code == 0 || !strings.Contains(errOut, wantErr) {
			t.Errorf("docker %s: exit %d, %s%s; want a failure saying %q", strings.Join(args, " "), code, out, errOut, wantErr)
		}
	}

	must("network", "create", "--label", "team=a", "--label", "tier=front", "neta")
	must("network", "create", "--label", "team=b", "--subnet", "10.77.0.0/24", "--gateway", "10.77.0.254", "--ip-range", "10.77.0.128/25", "netb")
	fails("already exists", "network", "create", "neta")
	// An internal network: peers by name, no way out (no default route).
	must("network", "create", "--internal", "neti")
	must(append([]string{"run", "-d", "--name", "i1", "--network", "neti"}, append([]string{"busybox"}, httpdScript("i1")...)...)...)
	if out, errOut, code := run("run", "--rm", "--network", "neti", "busybox", "sh", "-c", "ip route | grep -c default; wget -qO- http://i1/"); out != "0\nhello i1\n" {
		t.Errorf("on an internal network: exit %d, %q %q; want no default route and i1 by name", code, out, errOut)
	}
	if got := must("network", "inspect", "-f", "{{.Internal}}", "neti"); got != "true\n" {
		t.Errorf("network inspect neti Internal = %q", got)
	}
	must("rm", "-f", "i1")
	must("network", "rm", "neti")
	fails("pre-defined", "network", "create", "bridge")
	fails("overlaps", "network", "create", "--subnet", "10.77.0.0/16", "netc")

	lsTests := []struct {
		filters []string
		want    string
	}{
		{nil, "bridge\nhost\nneta\nnetb\nnone\n"},
		{[]string{"label=team=a"}, "neta\n"},
		{[]string{"label=team=a", "label=tier=back"}, ""},
		{[]string{"label=team"}, "neta\nnetb\n"},
		{[]string{"type=custom"}, "neta\nnetb\n"},
		{[]string{"type=builtin"}, "bridge\nhost\nnone\n"},
		{[]string{"name=net"}, "neta\nnetb\n"},
		{[]string{"driver=bridge"}, "bridge\nneta\nnetb\n"},
		{[]string{"dangling=true"}, "neta\nnetb\n"},
	}
	for _, tt := range lsTests {
		args := []string{"network", "ls", "--format", "{{.Name}}"}
		for _, f := range tt.filters {
			args = append(args, "--filter", f)
		}
		if got := must(args...); got != tt.want {
			t.Errorf("network ls %v = %q, want %q", tt.filters, got, tt.want)
		}
	}
	nfmt := "{{.Driver}} {{range .IPAM.Config}}{{.Subnet}} {{.Gateway}} {{.IPRange}}{{end}} {{.Labels.team}}"
	if got, want := must("network", "inspect", "-f", nfmt, "netb"), "bridge 10.77.0.0/24 10.77.0.254 10.77.0.128/25 b\n"; got != want {
		t.Errorf("network inspect netb = %q, want %q", got, want)
	}

	must(append([]string{"run", "-d", "--name", "a1", "--network", "neta", "--network-alias", "svc"}, append([]string{"busybox"}, httpdScript("a1")...)...)...)
	must(append([]string{"run", "-d", "--name", "b1", "--network", "netb"}, append([]string{"busybox"}, httpdScript("b1")...)...)...)
	b1IP := strings.TrimSpace(must("inspect", "-f", "{{.NetworkSettings.Networks.netb.IPAddress}}", "b1"))
	if b1IP != "10.77.0.128" {
		t.Errorf("b1's address = %q, want 10.77.0.128 (the first of the ip range)", b1IP)
	}
	if got := must("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "netb"); got != "b1 10.77.0.128/24\n" {
		t.Errorf("network inspect netb containers = %q", got)
	}
	// An address asked for, and refused when taken.
	must("run", "-d", "--name", "s1", "--network", "netb", "--ip", "10.77.0.200", "busybox", "sleep", "300")
	if got := must("inspect", "-f", "{{.NetworkSettings.Networks.netb.IPAddress}} {{.NetworkSettings.Networks.netb.IPAMConfig.IPv4Address}}", "s1"); got != "10.77.0.200 10.77.0.200\n" {
		t.Errorf("--ip 10.77.0.200: inspect = %q", got)
	}
	fails("address already in use", "run", "--rm", "--network", "netb", "--ip", "10.77.0.200", "busybox", "true")
	must("rm", "-f", "s1")
	for _, name := range []string{"a1", "svc"} {
		if out, errOut, code := run("run", "--rm", "--network", "neta", "busybox", "wget", "-qO-", "http://"+name+"/"); code != 0 || out != "hello a1\n" {
			t.Errorf("wget http://%s/ on neta: exit %d, %q %q", name, code, out, errOut)
		}
	}
	// Isolation: neither b1's name nor its address from neta.
	if out, _, code := run("run", "--rm", "--network", "neta", "busybox", "sh", "-c", wgetWithin3s("http://"+b1IP+"/")); code == 0 {
		t.Errorf("wget of b1 (netb) by address from neta worked: %q", out)
	}
	if _, _, code := run("run", "--rm", "--network", "neta", "busybox", "sh", "-c", wgetWithin3s("http://b1/")); code == 0 {
		t.Errorf("b1 (netb) resolves on neta")
	}
	// Links, on a user network and on the default bridge.
	if out, errOut, code := run("run", "--rm", "--network", "neta", "--link", "a1:webby", "busybox", "wget", "-qO-", "http://webby/"); code != 0 || out != "hello a1\n" {
		t.Errorf("--link a1:webby on neta: exit %d, %q %q", code, out, errOut)
	}
	must(append([]string{"run", "-d", "--name", "w2"}, append([]string{"busybox"}, httpdScript("w2")...)...)...)
	if out, errOut, code := run("run", "--rm", "--link", "w2:foo", "busybox", "wget", "-qO-", "http://foo/"); code != 0 || out != "hello w2\n" {
		t.Errorf("--link w2:foo on bridge: exit %d, %q %q", code, out, errOut)
	}
	fails("could not get container for nosuch", "run", "--rm", "--link", "nosuch:x", "busybox", "true")

	// A name made after a container started resolves in it; a removed one
	// no longer does.
	must("run", "-d", "--name", "watcher", "--network", "neta", "busybox", "sleep", "300")
	must(append([]string{"run", "-d", "--name", "late", "--network", "neta", "--network-alias", "later"}, append([]string{"busybox"}, httpdScript("late")...)...)...)
	for _, name := range []string{"late", "later"} {
		if out, errOut, code := run("exec", "watcher", "wget", "-qO-", "http://"+name+"/"); code != 0 || out != "hello late\n" {
			t.Errorf("wget http://%s/ from a container started before: exit %d, %q %q", name, code, out, errOut)
		}
	}
	must("rm", "-f", "late")
	if out, _, code := run("exec", "watcher", "grep", "-w", "late", "/etc/hosts"); code == 0 {
		t.Errorf("removed container late still in watcher's /etc/hosts: %q", out)
	}

	// Connect and disconnect a running container.
	must("network", "connect", "--alias", "watch", "netb", "watcher")
	if out, errOut, code := run("exec", "watcher", "wget", "-qO-", "http://b1/"); code != 0 || out != "hello b1\n" {
		t.Errorf("wget http://b1/ after connect to netb: exit %d, %q %q", code, out, errOut)
	}
	if out, errOut, code := run("exec", "b1", "ping", "-c", "1", "-W", "2", "watch"); code != 0 {
		t.Errorf("b1 ping watch (alias given at connect): exit %d, %s%s", code, out, errOut)
	}
	if got := must("inspect", "-f", "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}", "watcher"); got != "neta netb \n" {
		t.Errorf("watcher's networks = %q, want neta and netb", got)
	}
	fails("already", "network", "connect", "netb", "watcher")
	must("network", "disconnect", "netb", "watcher")
	if _, _, code := run("exec", "watcher", "sh", "-c", wgetWithin3s("http://b1/")); code == 0 {
		t.Errorf("watcher still reaches b1 after disconnect from netb")
	}
	fails("not connected", "network", "disconnect", "netb", "watcher")
	if got := must("ps", "--filter", "network=neta", "--format", "{{.Names}}"); got != "watcher\na1\n" {
		t.Errorf("ps --filter network=neta = %q", got)
	}

	// Connecting a created container: it joins at start.
	must("create", "--name", "c1", "busybox", "sleep", "300")
	must("network", "connect", "neta", "c1")
	must("start", "c1")
	if out, errOut, code := run("exec", "c1", "wget", "-qO-", "http://svc/"); code != 0 || out != "hello a1\n" {
		t.Errorf("wget http://svc/ from c1 (bridge + neta): exit %d, %q %q", code, out, errOut)
	}

	fails("active endpoints", "network", "rm", "neta")
	fails("pre-defined", "network", "rm", "bridge")
	fails("not found", "network", "rm", "nosuch")
	must("rm", "-f", "a1", "b1", "w2", "watcher", "c1")
	if got := must("network", "prune", "-f", "--filter", "until=2000-01-01T00:00:00Z"); strings.Contains(got, "net") {
		t.Errorf("network prune --filter until=2000 removed networks: %q", got)
	}
	if got := must("network", "prune", "-f", "--filter", "label=team=b"); !strings.Contains(got, "netb") || strings.Contains(got, "neta") {
		t.Errorf("network prune --filter label=team=b = %q", got)
	}
	must("network", "rm", "neta")
	if got := must("network", "ls", "--format", "{{.Name}}"); got != "bridge\nhost\nnone\n" {
		t.Errorf("network ls after rm = %q", got)
	}
}

// TestUserNetworksAfterReboot: an agent started on the state of one
// whose machine rebooted (the bridges gone) makes the bridges of the
// user-defined networks again and keeps their subnets.
func TestUserNetworksAfterReboot(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	state := t.TempDir()
	a := startAgent(t, func(o *Options) { o.Bridge, o.StateDir = true, state })
	if out, errOut, code := docker(t, a.sock, "", "network", "create", "--subnet", "10.66.0.0/24", "kept"); code != 0 {
		t.Fatalf("network create: %s%s", out, errOut)
	}
	id, _, _ := docker(t, a.sock, "", "network", "inspect", "-f", "{{.Id}}", "kept")
	bridge := berthnet.UserBridge(strings.TrimSpace(id))
	if err := exec.Command("ip", "link", "del", bridge).Run(); err != nil {
		t.Fatalf("ip link del %s: %v", bridge, err)
	}
	New(Options{StateDir: state, Bridge: true})
	out, err := exec.Command("ip", "-4", "-o", "addr", "show", "dev", bridge).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "10.66.0.1/24") {
		t.Errorf("bridge %s after the agent's start: %v %s; want it back with 10.66.0.1/24", bridge, err, out)
	}
}
