package container

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMountOverEtc: a mount on /etc still gets the container's hostname,
// hosts and resolv.conf (berth's files go on top of the user's mounts),
// and the user's own file on /etc/hosts replaces berth's, as in Docker.
func TestMountOverEtc(t *testing.T) {
	rt := newTestRuntime(t)
	res := runContainer(t, rt, ImageConfig{}, sh("cat /etc/hostname; grep -c localhost /etc/hosts; test -s /etc/resolv.conf && echo resolv"), func(s *Spec) {
		s.Hostname = "etc-test"
		s.Mounts = []Mount{{Type: "tmpfs", Target: "/etc"}}
	})
	if want := "etc-test\n2\nresolv\n"; res.stdout != want || res.state.ExitCode != 0 {
		t.Errorf("tmpfs on /etc: %q (exit %d, stderr %q), want %q", res.stdout, res.state.ExitCode, res.stderr, want)
	}

	hosts := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(hosts, []byte("10.9.8.7 mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res = runContainer(t, rt, ImageConfig{}, sh("cat /etc/hosts"), func(s *Spec) {
		s.Mounts = []Mount{{Type: "bind", Source: hosts, Target: "/etc/hosts"}}
	})
	if want := "10.9.8.7 mine\n"; res.stdout != want {
		t.Errorf("the user's /etc/hosts: %q (stderr %q), want %q", res.stdout, res.stderr, want)
	}
}
