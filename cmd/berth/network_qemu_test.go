package main

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestNetworksOnQEMU checks container networking on a berth-os machine in
// QEMU through the CLI: two bridge containers reach each other by name,
// one reaches a server on this computer through NAT and the QEMU
// user-net gateway (10.0.2.2 is this computer's 127.0.0.1), inspect shows
// the address, network ls and inspect list the networks and web on the
// bridge, --network none has loopback only and --network host sees the
// machine's interfaces (and ignores -p with Docker's warning).
func TestNetworksOnQEMU(t *testing.T) {
	root := qemuMachine(t, "net")
	loadPublishImages(t, root, "net")

	ip := checkBridge(t, root, "net")
	if out := mustBerth(t, root, "network", "ls", "-m", "net", "--format", "{{.Name}} {{.Driver}}"); out != "bridge bridge\nhost host\nnone null\n" {
		t.Errorf("network ls = %q", out)
	}
	if out := mustBerth(t, root, "network", "inspect", "-m", "net", "--format", "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}", "bridge"); out != "web "+ip+"/16\n" {
		t.Errorf("network inspect bridge = %q, want web at %s/16", out, ip)
	}

	// Names other than containers' go to the machine's resolvers (QEMU's
	// 10.0.2.3, reached through NAT).
	machine := mustBerth(t, root, "ssh", "net", "--", "grep", "^nameserver", "/etc/resolv.conf")
	if out := mustBerth(t, root, "run", "-m", "net", "--rm", "busybox", "grep", "^nameserver", "/etc/resolv.conf"); out != machine || !strings.Contains(out, "10.0.2.3") {
		t.Errorf("a container's nameservers = %q, want the machine's %q (10.0.2.3)", out, machine)
	}

	if out := mustBerth(t, root, "run", "-m", "net", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"); out != "lo\n" {
		t.Errorf("--network none interfaces = %q, want lo only", out)
	}
	out := mustBerth(t, root, "run", "-m", "net", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net")
	if f := strings.Fields(out); !contains(f, "eth0") || !contains(f, "berth0") {
		t.Errorf("--network host interfaces = %q, want the machine's eth0 and berth0", out)
	}
	r := berth(t, root, "", "run", "-m", "net", "--rm", "--network", "host", "-p", "8080:80", "busybox", "true")
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING: Published ports are discarded when using host network mode") {
		t.Errorf("--network host -p: exit %d, stderr %q; want Docker's warning", r.code, r.stderr)
	}
	mustBerth(t, root, "container", "rm", "-m", "net", "-f", "web")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkBridge runs busybox httpd as web on machine m and checks, through
// the CLI, that another container reaches it by name and by the address
// inspect shows, and that a container reaches a server on this computer
// through NAT and the user-net gateway (10.0.2.2 is this computer's
// 127.0.0.1 under QEMU and VirtualBox NAT alike). It returns web's address.
func checkBridge(t *testing.T, root, m string) string {
	t.Helper()
	mustBerth(t, root, append([]string{"run", "-m", m, "-d", "--name", "web", "busybox"}, httpd("hello from web")...)...)
	// httpd may not listen yet: the client retries a few times.
	fetch := func(url string) string {
		return "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- " + url + " && exit 0; sleep 1; done; exit 1"
	}
	if out := mustBerth(t, root, "run", "-m", m, "--rm", "busybox", "sh", "-c", fetch("http://web/")); out != "hello from web\n" {
		t.Errorf("wget http://web/ from another container = %q", out)
	}
	ip := strings.TrimSpace(mustBerth(t, root, "container", "inspect", "-m", m, "--format", "{{.NetworkSettings.Networks.bridge.IPAddress}}", "web"))
	if !strings.HasPrefix(ip, "172.18.0.") {
		t.Errorf("web's address = %q, want one in 172.18.0.0/16", ip)
	}
	if out := mustBerth(t, root, "run", "-m", m, "--rm", "busybox", "wget", "-qO-", "http://"+ip+"/"); out != "hello from web\n" {
		t.Errorf("wget http://%s/ = %q", ip, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from the host to %s\n", strings.Split(r.RemoteAddr, ":")[0])
	})}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	if out := mustBerth(t, root, "run", "-m", m, "--rm", "busybox", "wget", "-qO-", fmt.Sprintf("http://10.0.2.2:%d/", port)); out != "hello from the host to 127.0.0.1\n" {
		t.Errorf("outbound from a container to this computer = %q", out)
	}
	return ip
}
