package server

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testhttp"
)

// TestDockerCLIPublish publishes a busybox httpd with the real docker
// CLI's -p, reads it through the machine port, and checks what docker
// port and docker ps show.
func TestDockerCLIPublish(t *testing.T) {
	a := startAgent(t)
	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, code := docker(t, a.sock, "", "run", "-d", "--name", "web", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "busybox",
		"sh", "-c", "mkdir -p /w && echo served > /w/index.html && exec httpd -f -p 8080 -h /w")
	if code != 0 {
		t.Fatalf("docker run -p: exit %d: %s%s", code, out, errOut)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	body, err := testhttp.Get(url, 20*time.Second)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if body != "served\n" {
		t.Errorf("GET %s = %q, want %q", url, body, "served\n")
	}
	want := fmt.Sprintf("8080/tcp -> 127.0.0.1:%d\n", port)
	if out, errOut, _ := docker(t, a.sock, "", "port", "web"); out != want {
		t.Errorf("docker port = %q, want %q (stderr %q)", out, want, errOut)
	}
	wantPS := fmt.Sprintf("127.0.0.1:%d->8080/tcp", port)
	if out, _, _ := docker(t, a.sock, "", "ps", "--format", "{{.Ports}}"); strings.TrimSpace(out) != wantPS {
		t.Errorf("docker ps Ports = %q, want %q", out, wantPS)
	}
	if out, errOut, code := docker(t, a.sock, "", "rm", "-f", "web"); code != 0 {
		t.Fatalf("docker rm -f: %s%s", out, errOut)
	}
	if !hostport.Free(port) {
		t.Errorf("machine port %d still taken after rm", port)
	}
}
