package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testhttp"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testwait"
)

// udpAsk sends msg to 127.0.0.1:port and returns the first answer,
// sending again every second while none comes.
func udpAsk(t testing.TB, port int, msg string, within time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return "", err
	}
	defer c.Close()
	buf := make([]byte, 1500)
	var answer string
	err = testwait.Poll(context.Background(), within, func() error {
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(time.Second))
		n, err := c.Read(buf)
		answer = string(buf[:n])
		return err
	})
	if err != nil {
		return "", err
	}
	return answer, nil
}

// wantRefused checks that nothing listens on 127.0.0.1:port of this
// computer: a connection there is refused.
func wantRefused(t testing.TB, port int, why string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err == nil {
		c.Close()
		t.Errorf("%s: 127.0.0.1:%d accepts connections; want connection refused", why, port)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("%s: dial 127.0.0.1:%d: %v; want connection refused", why, port, err)
	}
}

// pickPorts returns n distinct free host ports.
func pickPorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		p, err := hostport.Pick()
		if err != nil {
			t.Fatal(err)
		}
		dup := false
		for _, q := range ports {
			dup = dup || q == p
		}
		if !dup {
			ports = append(ports, p)
		}
	}
	return ports
}

// loadPublishImages loads busybox and udpecho (busybox with /udpecho, a
// UDP echo server built from internal/testimages/cmd/udpecho) into
// machine name.
func loadPublishImages(t *testing.T, root, name string) {
	t.Helper()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile(buildLinux(t, "./internal/testimages/cmd/udpecho"))
	if err != nil {
		t.Fatal(err)
	}
	echo, err := testimages.WithFile(bb, "udpecho", prog)
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "images.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{"busybox:latest": bb, "udpecho:latest": echo}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustBerth(t, root, "load", "-m", name, "-i", tarball)
}

// httpd is the command of a busybox container that serves page on port 80.
func httpd(page string) []string {
	return []string{"sh", "-c", "mkdir -p /w && echo " + page + " > /w/index.html && exec httpd -f -p 80 -h /w"}
}

// TestPublishOnQEMU publishes container ports of a berth-os machine in
// QEMU on this computer through the CLI, on one machine: busybox httpd
// with run -d -p fetched from 127.0.0.1, ps and port, a taken host port
// refused naming its holder, UDP, the forward gone after rm -f, stop and
// kill and back after container start and restart, forwards of containers that exited on
// their own (and of a --rm one) cleaned up by the next run, and a
// --restart always container answering again after `berth restart`.
func TestPublishOnQEMU(t *testing.T) {
	root := qemuMachine(t, "pub")
	loadPublishImages(t, root, "pub")
	ports := pickPorts(t, 6)
	web, always, once, brief, gone, again := ports[0], ports[1], ports[2], ports[3], ports[4], ports[5]

	mustBerth(t, root, append([]string{"run", "-m", "pub", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", web), "busybox"}, httpd("hello from the machine")...)...)
	url := fmt.Sprintf("http://127.0.0.1:%d/", web)
	start := time.Now()
	body, err := testhttp.Get(url, time.Minute)
	if err != nil || body != "hello from the machine\n" {
		t.Fatalf("GET %s = %q, %v; want the container's page", url, body, err)
	}
	t.Logf("first answer through the published port after %v", time.Since(start).Round(time.Millisecond))

	want := fmt.Sprintf("127.0.0.1:%d->80/tcp", web)
	if out := mustBerth(t, root, "ps", "-m", "pub", "--format", "{{.Names}} {{.Ports}}"); strings.TrimSpace(out) != "web "+want {
		t.Errorf("ps = %q, want %q", out, "web "+want)
	}
	if out := mustBerth(t, root, "port", "-m", "pub", "web"); out != fmt.Sprintf("80/tcp -> 127.0.0.1:%d\n", web) {
		t.Errorf("port = %q", out)
	}

	// A host port another program holds: a clear error naming it (this
	// test's process), and no container left.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := ln.Addr().(*net.TCPAddr).Port
	r := berth(t, root, "", "run", "-m", "pub", "-d", "--name", "clash", "-p", strconv.Itoa(taken)+":80", "busybox", "sleep", "100")
	ln.Close()
	if wantErr := fmt.Sprintf("host port 127.0.0.1:%d/tcp is taken by %s (pid %d)", taken, testComm(), os.Getpid()); r.code == 0 || !strings.Contains(r.stderr, wantErr) {
		t.Errorf("run -p with a taken host port: exit %d, stderr %q; want %q", r.code, r.stderr, wantErr)
	}
	if out := mustBerth(t, root, "ps", "-m", "pub", "-a", "--format", "{{.Names}}"); strings.Contains(out, "clash") {
		t.Errorf("the refused container is left: %q", out)
	}

	// UDP: a datagram to the host port comes back from the container.
	udpLn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udp := udpLn.LocalAddr().(*net.UDPAddr).Port
	udpLn.Close()
	mustBerth(t, root, "run", "-m", "pub", "-d", "--name", "echo", "-p", fmt.Sprintf("%d:5353/udp", udp), "udpecho", "/udpecho", "5353")
	if got, err := udpAsk(t, udp, "ping", time.Minute); err != nil || got != "echo: ping" {
		t.Errorf("UDP to 127.0.0.1:%d = %q, %v; want %q", udp, got, err, "echo: ping")
	}
	if out := mustBerth(t, root, "port", "-m", "pub", "echo"); out != fmt.Sprintf("5353/udp -> 127.0.0.1:%d\n", udp) {
		t.Errorf("port echo = %q", out)
	}

	mustBerth(t, root, "container", "rm", "-m", "pub", "-f", "web", "echo")
	wantRefused(t, web, "after container rm -f")
	if !hostport.Free(web) {
		t.Errorf("host port %d still held after rm", web)
	}

	// A --restart always container: stop removes its forward, start adds it.
	mustBerth(t, root, append([]string{"run", "-m", "pub", "-d", "--name", "always", "--restart", "always", "-p", fmt.Sprintf("%d:80", always), "busybox"}, httpd("always here")...)...)
	alwaysURL := fmt.Sprintf("http://127.0.0.1:%d/", always)
	if body, err := testhttp.Get(alwaysURL, time.Minute); err != nil || body != "always here\n" {
		t.Fatalf("GET %s = %q, %v", alwaysURL, body, err)
	}
	mustBerth(t, root, "container", "stop", "-m", "pub", "-t", "1", "always")
	wantRefused(t, always, "after container stop")
	mustBerth(t, root, "container", "start", "-m", "pub", "always")
	if body, err := testhttp.Get(alwaysURL, time.Minute); err != nil || body != "always here\n" {
		t.Errorf("GET %s after container start = %q, %v", alwaysURL, body, err)
	}

	// Containers that exit on their own, one of them --rm: the next
	// command that changes containers removes their forwards.
	mustBerth(t, root, "run", "-m", "pub", "-d", "--name", "brief", "-p", fmt.Sprintf("%d:80", brief), "busybox", "true")
	mustBerth(t, root, "run", "-m", "pub", "-d", "--rm", "-p", fmt.Sprintf("%d:80", gone), "busybox", "true")
	mustBerth(t, root, "wait", "-m", "pub", "brief")
	waitGone(t, root, "pub", gone)
	mustBerth(t, root, append([]string{"run", "-m", "pub", "-d", "--name", "once", "-p", fmt.Sprintf("%d:80", once), "busybox"}, httpd("once")...)...)
	wantRefused(t, brief, "after a container exited on its own and the next run")
	wantRefused(t, gone, "after a --rm container exited and the next run")
	// The same host port again, for a new container.
	mustBerth(t, root, append([]string{"run", "-m", "pub", "-d", "--name", "again", "-p", fmt.Sprintf("%d:80", again), "busybox"}, httpd("again")...)...)
	if body, err := testhttp.Get(fmt.Sprintf("http://127.0.0.1:%d/", again), time.Minute); err != nil || body != "again\n" {
		t.Errorf("GET of a container started after others exited = %q, %v", body, err)
	}
	mustBerth(t, root, "container", "kill", "-m", "pub", "again")
	wantRefused(t, again, "after container kill")
	mustBerth(t, root, "container", "restart", "-m", "pub", "-t", "1", "again")
	if body, err := testhttp.Get(fmt.Sprintf("http://127.0.0.1:%d/", again), time.Minute); err != nil || body != "again\n" {
		t.Errorf("GET after container restart of a killed container = %q, %v", body, err)
	}

	// After a restart of the machine the --restart always container
	// answers again; the others stay down and their ports free.
	restart := time.Now()
	out := mustBerth(t, root, "restart", "pub")
	t.Logf("berth restart took %v:\n%s", time.Since(restart).Round(100*time.Millisecond), out)
	if !strings.Contains(out, fmt.Sprintf("Forwarded to pub again: 127.0.0.1:%d/tcp", always)) {
		t.Errorf("restart printed %q; want the restored forward of port %d", out, always)
	}
	if body, err := testhttp.Get(alwaysURL, 30*time.Second); err != nil || body != "always here\n" {
		t.Errorf("GET %s after berth restart = %q, %v; want the --restart always container", alwaysURL, body, err)
	}
	wantRefused(t, once, "after berth restart, for a container without a restart policy")
	if out := mustBerth(t, root, "ps", "-m", "pub", "--format", "{{.Names}} {{.Ports}}"); strings.TrimSpace(out) != fmt.Sprintf("always 127.0.0.1:%d->80/tcp", always) {
		t.Errorf("ps after restart = %q", out)
	}
}

// waitGone waits until the --rm container publishing port is gone.
func waitGone(t *testing.T, root, name string, port int) {
	t.Helper()
	testwait.Until(t, time.Minute, fmt.Sprintf("the --rm container publishing %d to go", port), func() bool {
		return !strings.Contains(mustBerth(t, root, "ps", "-m", name, "-a", "--format", "{{.Ports}}"), fmt.Sprintf(":%d->", port))
	})
}

// testComm is this test process's name as the kernel keeps it.
func testComm() string {
	c := filepath.Base(os.Args[0])
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}
