package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDockerCLISeccomp: containers run under Docker's default seccomp
// profile, exec'd processes too, unless --security-opt
// seccomp=unconfined. unshare(CLONE_NEWUSER) needs no capability, so
// only the profile refuses it. A profile of one's own replaces Docker's.
// The expected outputs are the machine's
// Docker Engine's for the same commands.
func TestDockerCLISeccomp(t *testing.T) {
	a := startAgent(t)
	const refused = "unshare: unshare(0x10000000): Operation not permitted\n"
	profile := filepath.Join(t.TempDir(), "nomkdir.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		want     string
		wantCode int
	}{
		{"default profile refuses", []string{"run", "--rm", "busybox", "unshare", "-U", "id", "-u"}, refused, 1},
		{"unconfined allows", []string{"run", "--rm", "--security-opt", "seccomp=unconfined", "busybox", "unshare", "-U", "id", "-u"}, "65534\n", 0},
		{"no-new-privileges with the profile", []string{"run", "--rm", "--security-opt", "no-new-privileges", "busybox", "unshare", "-U", "id", "-u"}, refused, 1},
		{"own profile refuses what it names", []string{"run", "--rm", "--security-opt", "seccomp=" + profile, "busybox", "mkdir", "/x"}, "mkdir: can't create directory '/x': Operation not permitted\n", 1},
		{"own profile allows the rest", []string{"run", "--rm", "--security-opt", "seccomp=" + profile, "busybox", "unshare", "-U", "id", "-u"}, "65534\n", 0},
		{"bad profile", []string{"run", "--rm", "--security-opt", `seccomp={"defaultAction":"SCMP_ACT_NOPE"}`, "busybox", "true"}, "", 125},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := docker(t, a.sock, "", tc.args...)
			if out+errOut != tc.want && !(tc.want == "" && code == tc.wantCode) || code != tc.wantCode {
				t.Errorf("docker %s = %q %q (exit %d), want %q (exit %d)", strings.Join(tc.args, " "), out, errOut, code, tc.want, tc.wantCode)
			}
		})
	}
	if _, errOut, code := docker(t, a.sock, "", "run", "-d", "--name", "sc", "busybox", "sleep", "300"); code != 0 {
		t.Fatalf("run -d: %s", errOut)
	}
	if out, errOut, code := docker(t, a.sock, "", "exec", "sc", "unshare", "-U", "id", "-u"); out+errOut != refused || code != 1 {
		t.Errorf("exec under the profile: %q %q (exit %d), want %q (exit 1)", out, errOut, code, refused)
	}
	if out, _, _ := docker(t, a.sock, "", "inspect", "-f", "{{.HostConfig.SecurityOpt}}", "sc"); out != "[]\n" {
		t.Errorf("SecurityOpt of a default container = %q, want []", out)
	}
}
