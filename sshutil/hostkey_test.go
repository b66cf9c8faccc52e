//go:build linux

package sshutil_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/sshutil"
)

func TestHostKeyPinnedAtFirstContactAndChangeRefused(t *testing.T) {
	eachServer(t, func(t *testing.T, kind string) {
		srv, target := setup(t, kind)
		ctx := testContext(t)

		if _, err := os.Stat(target.HostKeys.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("host key file exists before first contact: %v", err)
		}
		c, err := sshutil.Dial(ctx, target)
		if err != nil {
			t.Fatalf("first contact: %v", err)
		}
		c.Close()
		data, err := os.ReadFile(target.HostKeys.Path)
		if err != nil {
			t.Fatalf("nothing pinned: %v", err)
		}
		wantLine := "[127.0.0.1]:" + itoa(srv.Port) + " " + srv.HostKeyPub
		if got := strings.TrimSpace(string(data)); got != wantLine {
			t.Errorf("pinned file = %q, want %q", got, wantLine)
		}
		if st, _ := os.Stat(target.HostKeys.Path); st.Mode().Perm() != 0o600 {
			t.Errorf("pinned file mode = %o, want 600", st.Mode().Perm())
		}

		// Same key again: accepted.
		c, err = sshutil.Dial(ctx, target)
		if err != nil {
			t.Fatalf("second contact with the same key: %v", err)
		}
		c.Close()

		// The machine is re-created with a new host key: refused.
		srv.Restart(t, true)
		_, err = sshutil.Dial(ctx, target)
		var changed *sshutil.HostKeyChangedError
		if !errors.As(err, &changed) || !errors.Is(err, sshutil.ErrHostKeyChanged) {
			t.Fatalf("Dial after the host key changed: err = %v, want *HostKeyChangedError", err)
		}
		for _, want := range []string{`host key of machine "dev" changed`, `berth regenerate-host-key dev`, target.HostKeys.Path} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		// WaitForSSH gives up at once instead of retrying.
		if _, err := sshutil.WaitForSSH(ctx, target, sshutil.WaitOptions{}); !errors.Is(err, sshutil.ErrHostKeyChanged) {
			t.Errorf("WaitForSSH after the host key changed: err = %v, want ErrHostKeyChanged", err)
		}
		// The pinned file still holds the old key.
		if after, _ := os.ReadFile(target.HostKeys.Path); string(after) != string(data) {
			t.Errorf("pinned file changed after a refused key: %q", after)
		}

		// regenerate-host-key: forget, then the new key is pinned.
		if err := target.HostKeys.Forget(); err != nil {
			t.Fatal(err)
		}
		if err := target.HostKeys.Forget(); err != nil {
			t.Errorf("Forget twice: %v", err)
		}
		c, err = sshutil.Dial(ctx, target)
		if err != nil {
			t.Fatalf("Dial after Forget: %v", err)
		}
		c.Close()
		keys, err := target.HostKeys.Pinned()
		if err != nil || len(keys) != 1 {
			t.Fatalf("Pinned = %v, %v; want one key", keys, err)
		}
		if got := keys[0].Type() + " " + base64Key(keys[0]); got != srv.HostKeyPub {
			t.Errorf("pinned after Forget = %s, want the new key %s", got, srv.HostKeyPub)
		}
	})
}

// A machine reached at a new port (its forward moved) keeps its pin, and
// the file lists both addresses so that plain OpenSSH accepts either.
func TestHostKeyNewAddressSameKey(t *testing.T) {
	srv, target := setup(t, "openssh")
	ctx := testContext(t)
	c, err := sshutil.Dial(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	target.Addr = "localhost:" + itoa(srv.Port)
	c, err = sshutil.Dial(ctx, target)
	if err != nil {
		t.Fatalf("same key at another address: %v", err)
	}
	c.Close()
	data, _ := os.ReadFile(target.HostKeys.Path)
	want := "[localhost]:" + itoa(srv.Port) + ",[127.0.0.1]:" + itoa(srv.Port) + " " + srv.HostKeyPub
	if got := strings.TrimSpace(string(data)); got != want {
		t.Errorf("pinned file = %q, want %q", got, want)
	}
}

// The pinned file is a known_hosts file that plain OpenSSH ssh accepts
// with StrictHostKeyChecking=yes, and that makes it refuse a changed key.
func TestPinnedFileWorksWithOpenSSH(t *testing.T) {
	testenv.NeedCommand(t, "ssh")
	srv, target := setup(t, "openssh")
	c, err := sshutil.Dial(testContext(t), target)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ssh := func() (string, error) {
		out, err := exec.Command("ssh", "-F", "none", "-p", itoa(srv.Port), "-i", target.Key.Path,
			"-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
			"-o", "UserKnownHostsFile="+target.HostKeys.Path, "-o", "GlobalKnownHostsFile=/dev/null",
			"root@127.0.0.1", "echo", "pinned-ok").CombinedOutput()
		return string(out), err
	}
	if out, err := ssh(); err != nil || !strings.Contains(out, "pinned-ok") {
		t.Fatalf("ssh with the pinned file: %v: %s", err, out)
	}
	srv.Restart(t, true)
	if out, err := ssh(); err == nil || !strings.Contains(out, "HOST IDENTIFICATION HAS CHANGED") {
		t.Errorf("ssh after the key changed: err = %v, output %q; want a refusal", err, out)
	}
}
