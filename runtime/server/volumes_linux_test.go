package server

import (
	"context"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDockerCLIVolumeCommands drives docker volume create/ls/inspect/rm
// and the volumes of run, inspect and rm -v through the real docker CLI
// against the agent. The expected outputs are what the machine's Docker
// Engine answers to the same commands.
func TestDockerCLIVolumeCommands(t *testing.T) {
	a := startAgent(t)
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }
	must := func(want string, args ...string) {
		t.Helper()
		out, errOut, code := run(args...)
		if code != 0 || (want != "*" && out != want) {
			t.Fatalf("docker %s = %q (exit %d, stderr %q), want %q", strings.Join(args, " "), out, code, errOut, want)
		}
	}
	must("data1\n", "volume", "create", "--label", "a=b", "data1")
	must("data1\n", "volume", "create", "data1") // exists: unchanged
	must("DRIVER    VOLUME NAME\nlocal     data1\n", "volume", "ls")
	must("local data1 map[a:b] local true\n", "volume", "inspect", "-f", "{{.Driver}} {{.Name}} {{.Labels}} {{.Scope}} {{ne .Mountpoint \"\"}}", "data1")
	if _, errOut, code := run("volume", "create", "bad/name"); code == 0 || !strings.Contains(errOut, "includes invalid characters for a local volume name") {
		t.Errorf("create bad/name: exit %d, stderr %q; want Docker's invalid-name error", code, errOut)
	}

	must("*", "run", "-d", "--name", "user1", "-v", "data1:/d", "-v", "/anon", "busybox", "sleep", "300")
	id, _, _ := run("inspect", "-f", "{{.Id}}", "user1")
	id = strings.TrimSpace(id)
	_, errOut, code := run("volume", "rm", "data1")
	if want := "remove data1: volume is in use - [" + id + "]"; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("volume rm of a volume in use: exit %d, stderr %q; want exit 1 and %q", code, errOut, want)
	}
	mounts, _, _ := run("inspect", "-f", "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} {{.RW}} {{.Mode}};{{end}}", "user1")
	if !regexp.MustCompile(`^(volume [0-9a-f]{64} /anon true ;volume data1 /d true z;|volume data1 /d true z;volume [0-9a-f]{64} /anon true ;)\n$`).MatchString(mounts) {
		t.Errorf("inspect Mounts = %q, want the named and the anonymous volume", mounts)
	}
	if out, _, _ := run("volume", "ls", "-q"); len(strings.Fields(out)) != 2 {
		t.Errorf("volume ls -q = %q, want data1 and the anonymous volume", out)
	}
	must("user1\n", "rm", "-fv", "user1")
	must("data1\n", "volume", "ls", "-q") // rm -v removed the anonymous volume only
	must("hello\n", "run", "--rm", "-v", "data1:/d", "busybox", "sh", "-c", "echo hello > /d/f; cat /d/f")
	must("hello\n", "run", "--rm", "-v", "data1:/d", "-v", "/anon", "busybox", "cat", "/d/f")
	must("data1\n", "volume", "ls", "-q") // --rm removed its anonymous volume
	must("data1\n", "volume", "rm", "data1")
	if _, errOut, code := run("volume", "inspect", "data1"); code != 1 || !strings.Contains(errOut, "no such volume") {
		t.Errorf("inspect of a removed volume: exit %d, stderr %q; want exit 1, no such volume", code, errOut)
	}
	must("", "volume", "ls", "-q")

	// Prune removes the unused anonymous volumes; clients of API 1.41 and
	// older get every unused volume removed (Docker's rule).
	must("keep1\n", "volume", "create", "keep1")
	must("*", "run", "-d", "--name", "user2", "-v", "used:/d", "-v", "/anon", "busybox", "sleep", "300")
	must("*", "run", "--name", "gone", "-v", "/anon", "busybox", "true")
	must("gone\n", "rm", "gone") // leaves its anonymous volume
	if out, _, _ := run("volume", "ls", "-q"); len(strings.Fields(out)) != 4 {
		t.Fatalf("volume ls -q = %q, want keep1, used and two anonymous volumes", out)
	}
	must("*", "volume", "prune", "-f")
	if out, _, _ := run("volume", "ls", "-q"); len(strings.Fields(out)) != 3 || !strings.Contains(out, "keep1\n") {
		t.Errorf("after prune: %q, want keep1, used and user2's anonymous volume", out)
	}
	hc := http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", a.sock)
	}}}
	resp, err := hc.Post("http://agent/v1.41/volumes/prune", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if out, _, _ := run("volume", "ls", "-q"); len(strings.Fields(out)) != 2 || strings.Contains(out, "keep1") {
		t.Errorf("after an API 1.41 prune: %q, want only used and user2's anonymous volume", out)
	}
}

// TestDockerCLINestedMounts: a mount inside another one's target is
// mounted after it, whatever the order of the flags.
func TestDockerCLINestedMounts(t *testing.T) {
	a := startAgent(t)
	out, errOut, code := docker(t, a.sock, "", "run", "--rm", "-v", "inner:/outer/inner", "--tmpfs", "/outer", "busybox",
		"sh", "-c", "grep -c ' /outer' /proc/mounts; touch /outer/inner/f && ls /outer/inner")
	if out != "2\nf\n" || code != 0 {
		t.Errorf("nested mounts: %q (exit %d, stderr %q), want both mounted and the inner one visible", out, code, errOut)
	}
}
