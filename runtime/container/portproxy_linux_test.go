package container

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testhttp"
	"github.com/berthvm/berth/internal/testwait"
)

// TestPublishedTCPPort serves HTTP with busybox httpd on the container's
// loopback and fetches it through the machine port; the port is free
// again once the container stops.
func TestPublishedTCPPort(t *testing.T) {
	rt := newTestRuntime(t)
	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	id := startDetached(t, rt, "mkdir -p /tmp/www && echo hello through -p > /tmp/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /tmp/www",
		func(s *Spec) { s.Ports = []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 8080}} })
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	got, err := testhttp.Get(url, 20*time.Second)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if want := "hello through -p\n"; got != want {
		t.Errorf("GET %s = %q, want %q", url, got, want)
	}
	if err := rt.Stop(context.Background(), id, 0, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if !hostport.Free(port) {
		t.Errorf("machine port %d still taken after stop", port)
	}
}

// TestPublishedUDPPort echoes UDP from a socket the test opens inside the
// container's network namespace, through the machine port.
func TestPublishedUDPPort(t *testing.T) {
	rt := newTestRuntime(t)
	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	id := startDetached(t, rt, "exec sleep 1000",
		func(s *Spec) { s.Ports = []PortBinding{{Proto: "udp", HostPort: port, ContainerPort: 9000}} })
	info, err := rt.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	echo := make(chan error, 1)
	go func() {
		// This thread enters the container's namespace and never leaves.
		runtime.LockOSThread()
		ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", info.State.Pid))
		if err != nil {
			echo <- err
			return
		}
		defer ns.Close()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			echo <- err
			return
		}
		pc, err := net.ListenPacket("udp", "127.0.0.1:9000")
		echo <- err
		if err != nil {
			return
		}
		t.Cleanup(func() { pc.Close() })
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(strings.ToUpper(string(buf[:n]))), from)
		}
	}()
	if err := <-echo; err != nil {
		t.Fatalf("echo server in the container: %v", err)
	}
	c, err := net.Dial("udp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for i := range 2 {
		c.Write([]byte("ping " + strconv.Itoa(i)))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		if err != nil {
			t.Fatalf("read the echo: %v", err)
		}
		if got, want := string(buf[:n]), "PING "+strconv.Itoa(i); got != want {
			t.Errorf("echo = %q, want %q", got, want)
		}
	}
}

// TestPublishedPortTaken: a machine port another program holds fails
// the start with an error that names it.
func TestPublishedPortTaken(t *testing.T) {
	rt := newTestRuntime(t)
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)},
		Ports: []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 80}}}
	if err := spec.ApplyConfig(ImageConfig{}, sh("exec sleep 1000")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rt.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	err = rt.Start(ctx, spec.ID)
	if err == nil || !strings.Contains(err.Error(), "machine port "+strconv.Itoa(port)) {
		t.Errorf("start with a taken port: %v, want an error naming machine port %d", err, port)
	}
}

// TestPublishedPortQuickExit: a container with a published port whose
// process exits at once (`true`) starts, exits 0 and frees the port, even
// when it is gone before the proxy reaches its network namespace.
func TestPublishedPortQuickExit(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	for i := range 5 {
		port, err := hostport.Pick()
		if err != nil {
			t.Fatal(err)
		}
		spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)},
			Ports: []PortBinding{{Proto: "tcp", HostPort: port, ContainerPort: 80}}}
		if err := spec.ApplyConfig(ImageConfig{}, Overrides{Cmd: []string{"true"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if err := rt.Start(ctx, spec.ID); err != nil {
			t.Fatalf("start %d of a published `true`: %v", i, err)
		}
		st, err := rt.Wait(ctx, spec.ID, WaitNotRunning)
		if err != nil || st.ExitCode != 0 {
			t.Fatalf("wait %d = %+v, %v; want exit 0", i, st, err)
		}
		testwait.Until(t, 5*time.Second, fmt.Sprintf("machine port %d to be free after the container exited", port), func() bool { return hostport.Free(port) })
	}
}
