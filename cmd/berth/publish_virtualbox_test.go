package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testhttp"
)

// TestPublishOnVirtualBox publishes busybox httpd from a container on a
// berth-os machine made through VBoxManage (the double, which boots it in
// QEMU and turns controlvm natpf1 into QEMU host forwards; or the real
// VirtualBox with BERTH_VBOX_REAL=1): run -d -p PORT:80, then a GET from
// this computer's 127.0.0.1:PORT answered by the container, the NAT rule
// in showvminfo, ps and port, the rule and forward gone after rm -f, and
// after `berth restart` the kept rule of a --restart always container
// answering while that of a container that did not come back is removed,
// and a kept rule whose port another program took named at start.
func TestPublishOnVirtualBox(t *testing.T) {
	dbl := vboxEnv(t)
	iso := testenv.ISO(t)
	treeAgent(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "vpub") })
	mustBerth(t, root, "create", "-d", "virtualbox", "--virtualbox-iso", iso,
		"--virtualbox-memory", "768", "--virtualbox-disk-size", "1000", "--no-share", "vpub")
	loadPublishImages(t, root, "vpub")
	port := pickPorts(t, 1)[0]

	var calls int
	start := time.Now()
	run := func() {
		mustBerth(t, root, append([]string{"run", "-m", "vpub", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), "busybox"}, httpd("hello through VirtualBox NAT")...)...)
	}
	calls = vboxCalls(dbl, run)
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	body, err := testhttp.Get(url, time.Minute)
	if err != nil || body != "hello through VirtualBox NAT\n" {
		t.Fatalf("GET %s = %q, %v; want the container's page", url, body, err)
	}
	t.Logf("run -d -p and first answer: %v (%d VBoxManage calls in run)", time.Since(start).Round(time.Millisecond), calls)

	rule := fmt.Sprintf(`="berth-tcp-127.0.0.1-%d,tcp,127.0.0.1,%d,,%d"`, port, port, port)
	if info := showVMInfo(t); !strings.Contains(info, "Forwarding(1)"+rule) {
		t.Errorf("showvminfo lacks Forwarding(1)%s:\n%s", rule, grepLines(info, "Forwarding"))
	}
	if out := mustBerth(t, root, "ps", "-m", "vpub", "--format", "{{.Names}} {{.Ports}}"); strings.TrimSpace(out) != fmt.Sprintf("web 127.0.0.1:%d->80/tcp", port) {
		t.Errorf("ps = %q", out)
	}
	if out := mustBerth(t, root, "port", "-m", "vpub", "web"); out != fmt.Sprintf("80/tcp -> 127.0.0.1:%d\n", port) {
		t.Errorf("port = %q", out)
	}

	mustBerth(t, root, "container", "rm", "-m", "vpub", "-f", "web")
	wantRefused(t, port, "after container rm -f")
	if info := showVMInfo(t); strings.Contains(info, rule) {
		t.Errorf("showvminfo still lists the rule after rm:\n%s", grepLines(info, "Forwarding"))
	}

	// VirtualBox keeps NAT rules in the VM's settings: after a restart the
	// --restart always container's rule is kept (not added twice) and
	// answers, and the rule of a container that did not come back goes.
	ports := pickPorts(t, 2)
	always, once := ports[0], ports[1]
	mustBerth(t, root, append([]string{"run", "-m", "vpub", "-d", "--name", "always", "--restart", "always", "-p", fmt.Sprintf("%d:80", always), "busybox"}, httpd("always")...)...)
	mustBerth(t, root, append([]string{"run", "-m", "vpub", "-d", "--name", "once", "-p", fmt.Sprintf("%d:80", once), "busybox"}, httpd("once")...)...)
	out := mustBerth(t, root, "restart", "vpub")
	for _, want := range []string{
		fmt.Sprintf("Removed forwards to vpub of stopped containers: 127.0.0.1:%d/tcp", once),
		fmt.Sprintf("Forwarded to vpub again: 127.0.0.1:%d/tcp", always), // the kept rule, made again
	} {
		if !strings.Contains(out, want) {
			t.Errorf("restart printed %q; want %q", out, want)
		}
	}
	if body, err := testhttp.Get(fmt.Sprintf("http://127.0.0.1:%d/", always), 30*time.Second); err != nil || body != "always\n" {
		t.Errorf("GET of the --restart always container after berth restart = %q, %v", body, err)
	}
	wantRefused(t, once, "after berth restart, for a container without a restart policy")
	if got := grepLines(showVMInfo(t), "berth-"); got != fmt.Sprintf(`Forwarding(1)="berth-tcp-127.0.0.1-%d,tcp,127.0.0.1,%d,,%d"`, always, always, always) {
		t.Errorf("berth's NAT rules after restart:\n%s", got)
	}

	// The kept rule's port taken by another program while the machine is
	// stopped: start says who holds it; once freed, start forwards it.
	mustBerth(t, root, "stop", "vpub")
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", always))
	if err != nil {
		t.Fatal(err)
	}
	r := berth(t, root, "", "start", "vpub")
	ln.Close()
	if want := fmt.Sprintf("host port 127.0.0.1:%d/tcp is taken by %s (pid %d)", always, testComm(), os.Getpid()); r.code == 0 || !strings.Contains(r.stderr, want) {
		t.Errorf("start with the port of a kept rule taken: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	// Once the port is free, the machine's host agent (started by the
	// start above, whose VM runs) or this start makes the rule again.
	if out := mustBerth(t, root, "start", "vpub"); !strings.HasPrefix(out, "Started vpub\n") {
		t.Errorf("start once the port is free printed %q", out)
	}
	if body, err := testhttp.Get(fmt.Sprintf("http://127.0.0.1:%d/", always), 30*time.Second); err != nil || body != "always\n" {
		t.Errorf("GET once the port is free again = %q, %v", body, err)
	}
}

// showVMInfo is `VBoxManage showvminfo vpub --machinereadable`.
func showVMInfo(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("VBoxManage", "showvminfo", "vpub", "--machinereadable").Output()
	if err != nil {
		t.Fatalf("VBoxManage showvminfo: %v", err)
	}
	return string(out)
}

// grepLines keeps the lines of s that contain word.
func grepLines(s, word string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
