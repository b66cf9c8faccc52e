package server

import (
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testnetns"
)

// TestDockerCLINetworks runs the real docker CLI against an agent with
// the bridge network (in the test's private network namespace): names
// resolve between containers, inspect shows the address like Docker,
// --network host and none, and the warning for -p with host.
func TestDockerCLINetworks(t *testing.T) {
	if testnetns.Reexec(t) {
		return
	}
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }

	if out, errOut, code := run("run", "-d", "--name", "web", "busybox", "sh", "-c", "mkdir /w && echo hello web > /w/index.html && exec httpd -f -p 80 -h /w"); code != 0 {
		t.Fatalf("docker run -d web: exit %d: %s%s", code, out, errOut)
	}
	if out, errOut, code := run("run", "--rm", "busybox", "wget", "-qO-", "http://web/"); code != 0 || out != "hello web\n" {
		t.Errorf("wget http://web/ from another container: exit %d, %q %q", code, out, errOut)
	}
	// Extra hosts stay in the hosts file the network rewrites.
	if out, errOut, code := run("run", "--rm", "--add-host", "foo:1.2.3.4", "busybox", "cat", "/etc/hosts"); code != 0 || !strings.Contains(out, "1.2.3.4\tfoo\n172.18.0.3\t") || !strings.Contains(out, "172.18.0.2\t") {
		t.Errorf("--add-host on the bridge: exit %d, /etc/hosts (%s)\n%s\nwant foo, then its own address, and web's", code, errOut, out)
	}
	format := "{{.HostConfig.NetworkMode}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{.NetworkSettings.MacAddress}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}={{$v.IPAddress}}/{{$v.IPPrefixLen}}{{end}}"
	want := "bridge 172.18.0.2 172.18.0.1 02:42:ac:12:00:02 bridge=172.18.0.2/16\n"
	if out, errOut, _ := run("inspect", "-f", format, "web"); out != want {
		t.Errorf("inspect web = %q, want %q (%s)", out, want, errOut)
	}
	if out, _, _ := run("ps", "--format", "{{.Names}} {{.Networks}}"); out != "web bridge\n" {
		t.Errorf("ps networks = %q", out)
	}
	if out, _, _ := run("ps", "-a", "--filter", "network=host", "--format", "{{.Names}}"); out != "" {
		t.Errorf("ps --filter network=host = %q, want none", out)
	}
	if out, _, _ := run("ps", "--filter", "network=bridge", "--format", "{{.Names}}"); out != "web\n" {
		t.Errorf("ps --filter network=bridge = %q, want web", out)
	}
	if out, errOut, _ := run("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"); out != "bridge bridge local\nhost host local\nnone null local\n" {
		t.Errorf("network ls = %q (%s)", out, errOut)
	}
	nfmt := "{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{range .Containers}}{{.Name}} {{.IPv4Address}} {{.MacAddress}}{{end}}"
	if out, errOut, _ := run("network", "inspect", "-f", nfmt, "bridge"); out != "172.18.0.0/16 172.18.0.1 web 172.18.0.2/16 02:42:ac:12:00:02\n" {
		t.Errorf("network inspect bridge = %q (%s)", out, errOut)
	}
	if _, errOut, code := run("network", "inspect", "nosuch"); code == 0 || !strings.Contains(errOut, "nosuch") {
		t.Errorf("network inspect nosuch: exit %d, %q", code, errOut)
	}
	if out, _, code := run("run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"); code != 0 || out != "lo\n" {
		t.Errorf("--network none: exit %d, interfaces %q; want lo only", code, out)
	}
	out, errOut, code := run("run", "--rm", "--network", "host", "-p", "8080:80", "busybox", "ls", "/sys/class/net")
	if code != 0 || !strings.Contains(out, "berth0") {
		t.Errorf("--network host: exit %d, interfaces %q; want the machine's, berth0 among them", code, out)
	}
	if !strings.Contains(errOut, "Published ports are discarded when using host network mode") {
		t.Errorf("--network host -p: stderr %q, want the discarded-ports warning", errOut)
	}
	if _, errOut, code := run("run", "--rm", "--network", "nosuch", "busybox", "true"); code == 0 || !strings.Contains(errOut, "network nosuch not found") {
		t.Errorf("--network nosuch: exit %d, stderr %q", code, errOut)
	}
	if out, errOut, code := run("stop", "-t", "1", "web"); code != 0 {
		t.Fatalf("stop: %s%s", out, errOut)
	}
	if out, _, _ := run("inspect", "-f", "{{.NetworkSettings.IPAddress}}|{{.NetworkSettings.Networks.bridge.IPAddress}}", "web"); out != "|invalid IP\n" && out != "|\n" {
		t.Errorf("inspect of a stopped container = %q, want no address", out)
	}
}
