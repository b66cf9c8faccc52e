//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
	"github.com/berthvm/berth/sshutil/sshtest"
)

// sshMachine creates the fake machine name in the store at root, its SSH
// endpoint pointing at srv, and lets its new key log in there.
func sshMachine(t testing.TB, root, name string, srv *sshtest.Server) {
	t.Helper()
	mustBerth(t, root, "create", "-d", "fake", "--fake-ssh-port", strconv.Itoa(srv.Port), name)
	pub, err := os.ReadFile(filepath.Join(root, "machines", name, "id_ed25519.pub"))
	if err != nil {
		t.Fatalf("create made no key: %v", err)
	}
	srv.Authorize(t, string(pub))
}

func TestSSHCommand(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			srv := sshtest.Start(t, kind, "")
			root := t.TempDir()
			sshMachine(t, root, "dev", srv)

			tests := []struct {
				stdin    string
				args     []string
				wantOut  string
				wantErr  string
				wantCode int
			}{
				{args: []string{"dev", "--", "echo", "hello", "world"}, wantOut: "hello world\n"},
				{args: []string{"dev", "--", "echo out; echo err >&2; exit 3"}, wantOut: "out\n", wantErr: "err\n", wantCode: 3},
				{args: []string{"dev", "--", "kill -9 $$"}, wantCode: 137},
				{stdin: "abc\n", args: []string{"dev", "--", "tr", "a-z", "A-Z"}, wantOut: "ABC\n"},
				// No command and no terminal: the shell reads stdin.
				{stdin: "echo $((2+3))\nexit 4\n", args: []string{"dev"}, wantOut: "5\n", wantCode: 4},
			}
			for _, tt := range tests {
				r := berth(t, root, tt.stdin, append([]string{"ssh"}, tt.args...)...)
				if r.code != tt.wantCode || r.stdout != tt.wantOut || r.stderr != tt.wantErr {
					t.Errorf("berth ssh %s = exit %d, %q, %q; want exit %d, %q, %q",
						strings.Join(tt.args, " "), r.code, r.stdout, r.stderr, tt.wantCode, tt.wantOut, tt.wantErr)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "machines", "dev", "known_hosts")); err != nil {
				t.Errorf("no host key pinned in the machine folder: %v", err)
			}
		})
	}
}

func TestSSHHostKeyChangeAndRegenerate(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Dropbear, "")
	root := t.TempDir()
	sshMachine(t, root, "dev", srv)
	mustBerth(t, root, "ssh", "dev", "--", "true")

	srv.Restart(t, true) // the VM was re-created
	r := berth(t, root, "", "ssh", "dev", "--", "true")
	if r.code != exitError || !strings.Contains(r.stderr, `host key of machine "dev" changed`) ||
		!strings.Contains(r.stderr, `"berth regenerate-host-key dev"`) {
		t.Fatalf("berth ssh after the host key changed = exit %d, %q; want exit 1 naming regenerate-host-key", r.code, r.stderr)
	}
	out := mustBerth(t, root, "regenerate-host-key", "dev")
	if !strings.HasPrefix(out, "dev: pinned host key ssh-ed25519 SHA256:") {
		t.Errorf("regenerate-host-key printed %q", out)
	}
	if got := mustBerth(t, root, "ssh", "dev", "--", "echo", "again"); got != "again\n" {
		t.Errorf("berth ssh after regenerate-host-key = %q", got)
	}

	// A stopped machine: the key is forgotten, the next connection pins.
	mustBerth(t, root, "stop", "dev")
	out = mustBerth(t, root, "regenerate-host-key", "dev")
	if !strings.Contains(out, "dev: forgot the pinned host key") {
		t.Errorf("regenerate-host-key of a stopped machine printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(root, "machines", "dev", "known_hosts")); !os.IsNotExist(err) {
		t.Errorf("known_hosts still there: %v", err)
	}
	r = berth(t, root, "", "ssh", "dev")
	if r.code != exitError || !strings.Contains(r.stderr, "machine \"dev\" is Stopped (start it with `berth start dev`)") {
		t.Errorf("berth ssh on a stopped machine = exit %d, %q", r.code, r.stderr)
	}
	r = berth(t, root, "", "ssh", "nosuch")
	if r.code != exitNotFound {
		t.Errorf("berth ssh nosuch = exit %d, %q; want %d", r.code, r.stderr, exitNotFound)
	}
}

// The ssh-config block makes plain OpenSSH reach the machine with the
// machine's key and its pinned host key.
func TestSSHConfigWorksWithOpenSSH(t *testing.T) {
	testenv.NeedCommand(t, "ssh")
	srv := sshtest.Start(t, sshtest.OpenSSH, "")
	root := t.TempDir()
	sshMachine(t, root, "dev", srv)

	block := mustBerth(t, root, "ssh-config", "dev")
	dir := filepath.Join(root, "machines", "dev")
	want := "Host dev\n  HostName 127.0.0.1\n  Port " + strconv.Itoa(srv.Port) + "\n  User root\n" +
		"  IdentityFile " + filepath.Join(dir, "id_ed25519") + "\n  IdentitiesOnly yes\n" +
		"  UserKnownHostsFile " + filepath.Join(dir, "known_hosts") + "\n  StrictHostKeyChecking yes\n" +
		"  PasswordAuthentication no\n  LogLevel ERROR\n"
	if block != want {
		t.Errorf("ssh-config printed:\n%s\nwant:\n%s", block, want)
	}
	// ssh-config pinned the key (nothing was pinned before).
	if _, err := os.Stat(filepath.Join(dir, "known_hosts")); err != nil {
		t.Fatalf("ssh-config did not pin the host key: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "config")
	os.WriteFile(cfg, []byte(block), 0o600)
	out, err := exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "dev", "echo", "via-openssh").CombinedOutput()
	if err != nil || string(out) != "via-openssh\n" {
		t.Errorf("ssh -F <ssh-config> dev: %v: %q", err, out)
	}
	// And it refuses a changed key, as berth does.
	srv.Restart(t, true)
	if out, err := exec.Command("ssh", "-F", cfg, "-o", "BatchMode=yes", "dev", "true").CombinedOutput(); err == nil {
		t.Errorf("ssh accepted a changed host key: %q", out)
	}
}

func TestSCP(t *testing.T) {
	for _, kind := range sshtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			srv := sshtest.Start(t, kind, "")
			root := t.TempDir()
			sshMachine(t, root, "dev", srv)
			sshMachine(t, root, "web", srv) // same server, its own key
			local := t.TempDir()
			remote := t.TempDir() // what the "machines" see (they run on this host)
			write := func(p, s string) {
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			read := func(p string) string {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Errorf("%v", err)
				}
				return string(b)
			}
			write(filepath.Join(local, "a.txt"), "A")
			write(filepath.Join(local, "b.txt"), "B")
			write(filepath.Join(local, "tree", "x", "y.txt"), "Y")

			// host -> machine, several sources into a folder.
			mustBerth(t, root, "scp", filepath.Join(local, "a.txt"), filepath.Join(local, "b.txt"), "dev:"+remote)
			if read(filepath.Join(remote, "a.txt")) != "A" || read(filepath.Join(remote, "b.txt")) != "B" {
				t.Error("host -> machine copy")
			}
			// machine -> host under a new name.
			mustBerth(t, root, "scp", "dev:"+filepath.Join(remote, "a.txt"), filepath.Join(local, "a-back.txt"))
			if read(filepath.Join(local, "a-back.txt")) != "A" {
				t.Error("machine -> host copy")
			}
			// folders need -r.
			r := berth(t, root, "", "scp", filepath.Join(local, "tree"), "dev:"+remote)
			if r.code == 0 || !strings.Contains(r.stderr, "-r") {
				t.Errorf("scp of a folder without -r = exit %d, %q", r.code, r.stderr)
			}
			mustBerth(t, root, "scp", "-r", filepath.Join(local, "tree"), "dev:"+remote)
			if read(filepath.Join(remote, "tree", "x", "y.txt")) != "Y" {
				t.Error("scp -r host -> machine")
			}
			// machine -> machine.
			mustBerth(t, root, "scp", "-r", "dev:"+filepath.Join(remote, "tree"), "web:"+filepath.Join(remote, "tree-copy"))
			if read(filepath.Join(remote, "tree-copy", "x", "y.txt")) != "Y" {
				t.Error("scp -r machine -> machine")
			}

			for _, bad := range [][]string{
				{"scp", "only-one"},
				{"scp", filepath.Join(local, "a.txt"), filepath.Join(local, "b.txt"), "dev:" + filepath.Join(remote, "a.txt")},
			} {
				if r := berth(t, root, "", bad...); r.code != exitUsage {
					t.Errorf("berth %s = exit %d, %q; want %d", strings.Join(bad, " "), r.code, r.stderr, exitUsage)
				}
			}
			if r := berth(t, root, "", "scp", "nosuch:/x", local); r.code != exitNotFound {
				t.Errorf("scp from a missing machine = exit %d, %q", r.code, r.stderr)
			}
		})
	}
}

// `berth ssh dev` on a terminal: a login shell with a PTY of the
// terminal's size, and the shell's exit status as berth's.
func TestSSHInteractiveTerminal(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Dropbear, "")
	root := t.TempDir()
	sshMachine(t, root, "dev", srv)
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	pty.Setsize(ptmx, &pty.Winsize{Rows: 33, Cols: 111})
	var screen syncBuffer
	go io.Copy(&screen, ptmx)

	done := make(chan error, 1)
	go func() {
		done <- newApp(tty, tty, tty).RunContext(context.Background(), []string{"berth", "-s", root, "ssh", "dev"})
	}()
	io.WriteString(ptmx, "stty size; echo is-$((3*3)); exit 7\n")
	select {
	case err := <-done:
		if code, _ := exitCode(err); code != 7 {
			t.Errorf("berth ssh exited %d (%v), want 7", code, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("berth ssh did not end; screen:\n%s", screen.String())
	}
	// The last output may still be on its way through the pty.
	testwait.For(t, 10*time.Second, "the PTY size and the output on the screen", func() error {
		if s := screen.String(); !strings.Contains(s, "33 111") || !strings.Contains(s, "is-9") {
			return fmt.Errorf("the screen shows:\n%s", s)
		}
		return nil
	})
}
