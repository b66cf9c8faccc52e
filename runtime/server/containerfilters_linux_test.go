package server

import (
	"strings"
	"testing"
)

// TestDockerCLIContainerFilters checks docker ps --filter as Docker
// applies them: labels ANDed, other values of one key ORed, exited,
// status, before and since showing stopped containers without -a.
func TestDockerCLIContainerFilters(t *testing.T) {
	a := startAgent(t)
	run := func(args ...string) (string, string, int) { return docker(t, a.sock, "", args...) }
	for _, c := range []struct {
		args     []string
		wantCode int
	}{
		{[]string{"run", "--name", "f1", "--label", "a=1", "--label", "b=2", "busybox", "true"}, 0},
		{[]string{"run", "--name", "f2", "--label", "a=1", "busybox", "sh", "-c", "exit 3"}, 3},
		{[]string{"run", "-d", "--name", "f3", "--label", "b=2", "busybox", "sleep", "300"}, 0},
	} {
		if out, errOut, code := run(c.args...); code != c.wantCode {
			t.Fatalf("docker %s: exit %d, want %d: %s%s", strings.Join(c.args, " "), code, c.wantCode, out, errOut)
		}
	}
	id, _, _ := run("inspect", "-f", "{{.Id}}", "f2")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-a", "--filter", "label=a=1", "--filter", "label=b=2"}, "f1"},
		{[]string{"-a", "--filter", "label=a=1"}, "f2 f1"},
		{[]string{"-a", "--filter", "label=a", "--filter", "label!=b"}, "f2"},
		{[]string{"--filter", "exited=3"}, "f2"},
		{[]string{"--filter", "exited=0", "--filter", "exited=3"}, "f2 f1"},
		{[]string{"--filter", "status=running"}, "f3"},
		{[]string{"--filter", "status=exited", "--filter", "label=b=2"}, "f1"},
		{[]string{"-a", "--filter", "name=f"}, "f3 f2 f1"},
		{[]string{"-a", "--filter", "name=^/f1$"}, "f1"},
		{[]string{"-a", "--filter", "id=" + id[:10]}, "f2"},
		{[]string{"--filter", "since=f1"}, "f3 f2"},
		{[]string{"--filter", "before=f3"}, "f2 f1"},
		{[]string{"-a", "--filter", "ancestor=busybox"}, "f3 f2 f1"},
		{[]string{"-a", "--filter", "ancestor=busybox:latest", "--filter", "name=f3"}, "f3"},
		{[]string{"-a", "--filter", "ancestor=nosuch"}, ""},
	}
	for _, tt := range tests {
		out, errOut, code := run(append(append([]string{"ps"}, tt.args...), "--format", "{{.Names}}")...)
		if got := strings.Join(strings.Fields(out), " "); code != 0 || got != tt.want {
			t.Errorf("ps %v = %q (exit %d, %s), want %q", tt.args, got, code, errOut, tt.want)
		}
	}
	run("rm", "-f", "f1", "f2", "f3")
}
