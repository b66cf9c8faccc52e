//go:build !windows

package hostagent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/machine"
)

func TestSocketPathShortensLongFolders(t *testing.T) {
	short := "/home/ann/.berth/machines/dev"
	if got, want := SocketPath(short), short+"/docker.sock"; got != want {
		t.Errorf("SocketPath(%q) = %q, want %q", short, got, want)
	}
	long := "/Users/" + strings.Repeat("x", 80) + "/.berth/machines/" + strings.Repeat("m", 40)
	got := SocketPath(long)
	if len(got) > maxSocketPath {
		t.Errorf("SocketPath of a long folder is %d bytes: %q", len(got), got)
	}
	if got == SocketPath(long+"2") {
		t.Errorf("two machines share the socket %q", got)
	}
	if ep := Endpoint(long); ep != "unix://"+got {
		t.Errorf("Endpoint = %q, want unix://%s", ep, got)
	}
}

func TestListenLongFolderLinksSocket(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 110))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSocket(dir)
	defer ln.Close()
	target, err := os.Readlink(filepath.Join(dir, SocketFile))
	if err != nil || target != SocketPath(dir) {
		t.Fatalf("the machine folder's docker.sock links to %q (%v), want %q", target, err, SocketPath(dir))
	}
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestLockAndStatus(t *testing.T) {
	dir := t.TempDir()
	if Running(dir) {
		t.Fatal("Running before any host agent")
	}
	if _, err := ReadStatus(dir); err != ErrNotRunning {
		t.Fatalf("ReadStatus without a host agent: %v, want ErrNotRunning", err)
	}
	release, err := lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lock(dir); err != ErrAlreadyRunning {
		t.Errorf("second lock: %v, want ErrAlreadyRunning", err)
	}
	if !Running(dir) {
		t.Error("not Running while the lock is held")
	}
	want := Status{Pid: 42, Endpoint: "unix:///x", State: StateReady, Agent: "v1"}
	if err := writeStatus(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadStatus(dir)
	if err != nil || got.Pid != 42 || got.Agent != "v1" || got.State != StateReady {
		t.Errorf("ReadStatus = %+v, %v; want %+v", got, err, want)
	}
	release()
	if _, err := ReadStatus(dir); err != ErrNotRunning {
		t.Errorf("ReadStatus after the host agent ended: %v, want ErrNotRunning (a killed one leaves its file)", err)
	}
}

// TestFilesKnown: every file the host agent makes is in machine.Files,
// so rm and the conformance suite know it.
func TestFilesKnown(t *testing.T) {
	for _, f := range []string{PidFile, LogFile, StatusFile, LockFile, SocketFile} {
		if !machine.IsKnownFile(f) {
			t.Errorf("%s is not in machine.Files", f)
		}
	}
}
