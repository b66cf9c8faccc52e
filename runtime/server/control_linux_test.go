package server

import (
	"archive/tar"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/hostport"
)

// dockerMust runs the docker CLI against sock and fails the test when it
// exits non-zero.
func dockerMust(t *testing.T, sock string, args ...string) string {
	t.Helper()
	out, errOut, code := docker(t, sock, "", args...)
	if code != 0 {
		t.Fatalf("docker %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

// counterValue reads /tmp/n of the container through docker cp, which
// works on a paused container too.
func counterValue(t *testing.T, sock, name string) int {
	t.Helper()
	tr := tar.NewReader(strings.NewReader(dockerMust(t, sock, "cp", name+":/tmp/n", "-")))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(tr)
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("counter %q: %v", b, err)
	}
	return n
}

func TestDockerCLIStatsTopRenamePause(t *testing.T) {
	a := startAgent(t)
	must := func(args ...string) string { t.Helper(); return dockerMust(t, a.sock, args...) }
	since := time.Now().Add(-time.Second).Format(time.RFC3339Nano)
	// The counter is written to a new file and renamed over /tmp/n: with
	// `echo $i > /tmp/n`, a pause between the truncation and the write
	// left /tmp/n empty for the whole pause.
	must("run", "-d", "--name", "counter", "busybox", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done")

	mem := strings.TrimSpace(must("stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}", "counter"))
	if !strings.HasPrefix(mem, "counter ") || strings.HasPrefix(mem, "counter 0B") {
		t.Errorf("docker stats --no-stream = %q, want counter's non-zero memory", mem)
	}
	top := must("top", "counter")
	if lines := strings.Split(strings.TrimSpace(top), "\n"); len(lines) < 2 || !strings.HasPrefix(lines[0], "UID") || !strings.Contains(top, "sh -c i=0") {
		t.Errorf("docker top:\n%s", top)
	}

	must("rename", "counter", "ticker")
	if got := must("ps", "--format", "{{.Names}}"); got != "ticker\n" {
		t.Errorf("after rename, docker ps names = %q", got)
	}
	if _, errOut, code := docker(t, a.sock, "", "rename", "ticker", "ticker"); code == 0 || !strings.Contains(errOut, "same name") {
		t.Errorf("rename to the same name: exit %d, %q", code, errOut)
	}

	must("pause", "ticker")
	if got := must("inspect", "--format", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "ticker"); got != "paused true true\n" {
		t.Errorf("paused: inspect = %q", got)
	}
	if got := must("ps", "--format", "{{.Status}}"); !strings.HasSuffix(strings.TrimSpace(got), "(Paused)") {
		t.Errorf("paused: docker ps status = %q", got)
	}
	n1 := counterValue(t, a.sock, "ticker")
	time.Sleep(500 * time.Millisecond)
	if n2 := counterValue(t, a.sock, "ticker"); n2 != n1 {
		t.Errorf("paused, the counter moved from %d to %d", n1, n2)
	}
	if _, errOut, code := docker(t, a.sock, "", "exec", "ticker", "true"); code == 0 || !strings.Contains(errOut, "paused") {
		t.Errorf("exec in a paused container: exit %d, %q", code, errOut)
	}
	if _, errOut, code := docker(t, a.sock, "", "pause", "ticker"); code == 0 || !strings.Contains(errOut, "already paused") {
		t.Errorf("pause twice: exit %d, %q", code, errOut)
	}
	must("unpause", "ticker")
	time.Sleep(500 * time.Millisecond)
	if n3 := counterValue(t, a.sock, "ticker"); n3 <= n1 {
		t.Errorf("unpaused, the counter stayed at %d", n3)
	}
	if got := must("inspect", "--format", "{{.State.Status}} {{.State.Paused}}", "ticker"); got != "running false\n" {
		t.Errorf("unpaused: inspect = %q", got)
	}
	docker(t, a.sock, "", "exec", "ticker", "sh", "-c", "exit 3; echo")
	// A paused container stops as a running one does.
	must("pause", "ticker")
	must("stop", "-t", "1", "ticker")
	if got := must("inspect", "--format", "{{.State.Status}}", "ticker"); got != "exited\n" {
		t.Errorf("stopped while paused: %q", got)
	}
	until := time.Now().Add(time.Second).Format(time.RFC3339Nano)
	events := must("events", "--since", since, "--until", until, "--filter", "type=container", "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}")
	for _, want := range []string{"exec_create: sh -c exit 3; echo ticker <no value>\n", "exec_start: sh -c exit 3; echo ticker <no value>\n", "exec_die ticker <no value>\n", "rename ticker /counter\n", "pause ticker <no value>\n", "unpause ticker <no value>\n", "archive-path ticker <no value>\n"} {
		if !strings.Contains(events, want) {
			t.Errorf("events lack %q:\n%s", want, events)
		}
	}
}

func TestDockerCLIPortAllAddresses(t *testing.T) {
	a := startAgent(t)
	port, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	dockerMust(t, a.sock, "run", "-d", "--name", "web", "-p", fmt.Sprintf("%d:80", port), "busybox", "sleep", "1000")
	want := fmt.Sprintf("80/tcp -> 0.0.0.0:%d\n80/tcp -> [::]:%d\n", port, port)
	if got := dockerMust(t, a.sock, "port", "web"); got != want {
		t.Errorf("docker port = %q, want %q", got, want)
	}
	if got := dockerMust(t, a.sock, "inspect", "--format", "{{json .HostConfig.PortBindings}}", "web"); !strings.Contains(got, `"HostIp":""`) {
		t.Errorf("HostConfig.PortBindings = %s, want the empty host address kept", got)
	}
}
