package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berthvm/berth/hostport"
	"github.com/berthvm/berth/internal/testimages"
)

// httpGet fetches url, retrying while nothing answers yet.
func httpGet(t testing.TB, url string, within time.Duration) (string, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(within)
	for {
		res, err := c.Get(url)
		if err == nil {
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			return string(b), err
		}
		if time.Now().After(deadline) {
			return "", err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPublishOnQEMU publishes busybox httpd from a container on a
// berth-os machine in QEMU with run -d -p, fetches it from this computer's
// 127.0.0.1, checks ps and port, refuses a taken host port, and finds the
// forward gone after rm.
func TestPublishOnQEMU(t *testing.T) {
	root := qemuMachine(t, "pub")

	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "busybox.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{"busybox:latest": bb}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustBerth(t, root, "load", "-m", "pub", "-i", tarball)

	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	mustBerth(t, root, "run", "-m", "pub", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), "busybox",
		"sh", "-c", "mkdir -p /w && echo hello from the machine > /w/index.html && exec httpd -f -p 80 -h /w")
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	start := time.Now()
	body, err := httpGet(t, url, time.Minute)
	if err != nil || body != "hello from the machine\n" {
		t.Fatalf("GET %s = %q, %v; want the container's page", url, body, err)
	}
	t.Logf("first answer through the published port after %v", time.Since(start).Round(time.Millisecond))

	want := fmt.Sprintf("127.0.0.1:%d->80/tcp", port)
	if out := mustBerth(t, root, "ps", "-m", "pub", "--format", "{{.Names}} {{.Ports}}"); strings.TrimSpace(out) != "web "+want {
		t.Errorf("ps = %q, want %q", out, "web "+want)
	}
	if out := mustBerth(t, root, "port", "-m", "pub", "web"); out != fmt.Sprintf("80/tcp -> 127.0.0.1:%d\n", port) {
		t.Errorf("port = %q", out)
	}

	// A host port another program holds: a clear error, no container left.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	taken := ln.Addr().(*net.TCPAddr).Port
	r := berth(t, root, "", "run", "-m", "pub", "-d", "--name", "clash", "-p", strconv.Itoa(taken)+":80", "busybox", "sleep", "100")
	ln.Close()
	if r.code == 0 || !strings.Contains(r.stderr, fmt.Sprintf("host port 127.0.0.1:%d/tcp is taken", taken)) {
		t.Errorf("run -p with a taken host port: exit %d, stderr %q; want a taken-port error", r.code, r.stderr)
	}
	if out := mustBerth(t, root, "ps", "-m", "pub", "-a", "--format", "{{.Names}}"); strings.Contains(out, "clash") {
		t.Errorf("the refused container is left: %q", out)
	}

	mustBerth(t, root, "container", "rm", "-m", "pub", "-f", "web")
	if !hostport.Free(port) {
		t.Errorf("host port %d still forwarded after rm", port)
	}
}
