package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berthvm/berth/internal/reliability"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
)

// TestCreateRefusesBadShares: a bad --share is a usage error, refused
// before anything is made, naming what is wrong (machine.ResolveShares's
// tests check each message).
func TestCreateRefusesBadShares(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--share", dir + ":/root"}, []string{"bad --share", `"/root"`, "berth-os's own"}},
		{[]string{"--share", dir, "--no-share"}, []string{"contradict"}},
		{[]string{"--share", filepath.Join(dir, "missing"), "--share", dir + ":/etc/x"}, []string{"does not exist", "/etc"}},
	}
	for _, d := range []string{"qemu", "virtualbox"} {
		for _, tt := range tests {
			root := t.TempDir()
			args := append(append([]string{"create", "-d", d}, tt.args...), "dev")
			r := berth(t, root, "", args...)
			if r.code != 2 {
				t.Errorf("berth %s: exit %d, want 2 (usage)\n%s", strings.Join(args, " "), r.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("berth %s: stderr %q, want it to name %q", strings.Join(args, " "), r.stderr, w)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "machines")); !os.IsNotExist(err) {
				t.Errorf("berth %s made %s (%v)", strings.Join(args, " "), filepath.Join(root, "machines"), err)
			}
		}
	}
}

// TestCreateSharesNeedTheRole: a driver without shared folders refuses
// --share and gets no default share.
func TestCreateSharesNeedTheRole(t *testing.T) {
	root := t.TempDir()
	r := berth(t, root, "", "create", "-d", "fake", "--share", t.TempDir(), "dev")
	if r.code != 2 || !strings.Contains(r.stderr, "the fake driver cannot share folders") {
		t.Errorf("create -d fake --share: exit %d, stderr %q; want exit 2 naming the driver", r.code, r.stderr)
	}
	mustBerth(t, root, "create", "-d", "fake", "dev")
	if got := mustBerth(t, root, "inspect", "-f", "{{json .Shares}}", "dev"); got != "null\n" {
		t.Errorf("a fake machine's shares = %s, want none", got)
	}
}

// loadBusybox loads the test busybox image into the machine and returns
// what berth load printed.
func loadBusybox(t *testing.T, root, name string) string {
	t.Helper()
	return mustBerth(t, root, "load", "-m", name, "-i", busyboxArchive(t))
}

// busyboxArchive writes the test busybox image as a docker-save archive
// (busybox:latest) and returns its path.
func busyboxArchive(t *testing.T) string {
	t.Helper()
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
	return tarball
}

// checkShare checks, through the CLI, that the host folder share (shared
// at the same path) works both ways in containers of machine name, and
// that the guest sees a host edit at once.
func checkShare(t *testing.T, root, name, share string) {
	t.Helper()
	if got, want := mustBerth(t, root, "inspect", "-f", "{{range .Shares}}{{.HostPath}}:{{.GuestPath}} {{end}}", name), share+":"+share+" \n"; got != want {
		t.Errorf("inspect .Shares = %s, want %s", got, want)
	}
	sub := filepath.Join(share, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "file"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loadBusybox(t, root, name)
	if got := mustBerth(t, root, "run", "-m", name, "--rm", "-v", sub+":/src", "busybox", "cat", "/src/file"); got != "from the host\n" {
		t.Errorf("a container read %q from the shared file, want %q", got, "from the host\n")
	}
	mustBerth(t, root, "run", "-m", name, "--rm", "-v", sub+":/src", "busybox", "sh", "-c", "echo from a container > /src/out")
	if got, err := os.ReadFile(filepath.Join(sub, "out")); err != nil || string(got) != "from a container\n" {
		t.Errorf("the host read %q, %v from the file a container wrote, want %q", got, err, "from a container\n")
	}
	// A host edit is seen by the next read in the guest (no stale cache).
	if got := inMachine(t, root, name, "cat "+sub+"/file"); got != "from the host\n" {
		t.Errorf("the guest read %q, want %q", got, "from the host\n")
	}
	if err := os.WriteFile(filepath.Join(sub, "file"), []byte("edited on the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := inMachine(t, root, name, "cat "+sub+"/file"); got != "edited on the host\n" {
		t.Errorf("after a host edit the guest read %q, want %q", got, "edited on the host\n")
	}
}

// checkStoreHidden checks that machine name, whose share holds the berth
// store root (as the default home share holds ~/.berth), sees none of it:
// not in the guest, not in a container given the share.
func checkStoreHidden(t *testing.T, root, name, share string) {
	t.Helper()
	key := filepath.Join(root, "machines", name, "id_ed25519")
	if _, err := os.Stat(key); err != nil {
		t.Fatalf("the machine's key is not where the check looks: %v", err)
	}
	if got := inMachine(t, root, name, "ls -A "+root+"; cat "+key+" 2>/dev/null; touch "+root+"/x 2>/dev/null && echo writable; true"); got != "" {
		t.Errorf("the guest sees the berth store %s through the share: %q, want nothing", root, got)
	}
	rel, err := filepath.Rel(share, root)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustBerth(t, root, "run", "-m", name, "--rm", "-v", share+":/h", "busybox", "sh", "-c", "ls -A /h/"+rel+"; cat /h/"+rel+"/machines/"+name+"/id_ed25519 2>/dev/null; true"); got != "" {
		t.Errorf("a container given -v %s:/h sees the berth store: %q, want nothing", share, got)
	}
	checkPrivate(t, root, name)
}

// checkPrivate checks that the endpoints of machine name are its user's
// alone: on the host the machines folder and the machine's folder (which
// guard all it holds) are 0700, its private key 0600, and no socket or
// pidfile in it is writable by group or others; in the guest the agent's
// socket and its folder are root's alone, and a container does not see
// them.
func checkPrivate(t *testing.T, root, name string) {
	t.Helper()
	dir := filepath.Join(root, "machines", name)
	for _, d := range []string{filepath.Join(root, "machines"), dir} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want a folder of mode 0700", d, fi.Mode(), err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "id_ed25519")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the machine's private key: %v, %v; want mode 0600", fi.Mode(), err)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sockets := 0
	for _, de := range des {
		fi, err := os.Lstat(filepath.Join(dir, de.Name()))
		if err != nil || (fi.Mode()&os.ModeSocket == 0 && !strings.HasSuffix(de.Name(), ".pid")) {
			continue
		}
		if fi.Mode()&os.ModeSocket != 0 {
			sockets++
		}
		if fi.Mode().Perm()&0o022 != 0 {
			t.Errorf("%s has mode %v: group or others may write to it", filepath.Join(dir, de.Name()), fi.Mode())
		}
	}
	// The host agent's docker.sock, and QEMU's QMP socket where QEMU runs
	// the machine (a VirtualBox machine's VM files live with VirtualBox).
	want := 1
	if _, err := os.Stat(filepath.Join(dir, "qemu.pid")); err == nil {
		want = 2
	}
	if fi, err := os.Lstat(filepath.Join(dir, "docker.sock")); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("the host agent's socket: %v, %v; want a socket", fi, err)
	}
	if sockets < want {
		t.Errorf("found %d sockets in %s, want %d (the host agent's and, for QEMU, its QMP socket)", sockets, dir, want)
	}
	if got := inMachine(t, root, name, "stat -c '%a %U:%G' /run/berth /run/berth/agent.sock"); got != "700 root:root\n600 root:root\n" {
		t.Errorf("the agent's folder and socket in the guest: %q, want 700 and 600, root's", got)
	}
	if got := mustBerth(t, root, "run", "-m", name, "--rm", "busybox", "sh", "-c", "ls -d /run/berth /var/lib/berth 2>&1; true"); strings.Contains(got, "agent.sock") || !strings.Contains(got, "No such file") {
		t.Errorf("a container sees the agent's folders: %q", got)
	}
}

// TestSharedFoldersOnQEMU: a QEMU machine's --share over virtio-9p. The
// share holds the berth store (the test's temporary folders), which the
// machine must not see.
func TestSharedFoldersOnQEMU(t *testing.T) {
	started := time.Now()
	share := filepath.Dir(t.TempDir()) // qemuMachine's store comes next to it
	root := qemuMachine(t, "shr", "--share", share)
	checkShare(t, root, "shr", share)
	checkStoreHidden(t, root, "shr", share)
	checkI386(t, root, "shr") // not about shares: one VM boot checks more
	reliability.Record(t, started, reliability.Row{Area: "security", What: "a QEMU machine whose share holds the berth store", Runs: 1,
		Notes: "store (keys, disks) hidden from the guest and from a container given the share; host sockets, pidfiles, key and folders the user's alone; agent socket root's alone, unseen by containers; an i386 image runs"})
	// The share comes back at every boot.
	mustBerth(t, root, "stop", "shr")
	mustBerth(t, root, "start", "shr")
	if got := inMachine(t, root, "shr", "cat "+filepath.Join(share, "sub", "file")); got != "edited on the host\n" {
		t.Errorf("after a restart the guest read %q from the share, want %q", got, "edited on the host\n")
	}
}

// TestSharedFoldersOnVirtualBox: a VirtualBox machine's --share, a
// VirtualBox shared folder that the double exports over virtio-9p and
// berth-os mounts in place of vboxsf.
func TestSharedFoldersOnVirtualBox(t *testing.T) {
	dbl := vboxEnv(t)
	iso := testenv.ISO(t)
	treeAgent(t)
	root := t.TempDir()
	share := filepath.Dir(root) // holds the store, which the machine must not see
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "vshr") })
	mustBerth(t, root, "create", "-d", "virtualbox", "--virtualbox-iso", iso,
		"--virtualbox-memory", "768", "--virtualbox-disk-size", "1000", "--share", share, "vshr")
	if dbl != nil {
		out, err := exec.Command("VBoxManage", "showvminfo", "vshr", "--machinereadable").Output()
		if err != nil || !strings.Contains(string(out), "SharedFolderNameMachineMapping1=\"berth0\"\nSharedFolderPathMachineMapping1=\""+share+"\"\n") {
			t.Errorf("showvminfo: %v\n%s\nwant shared folder berth0 at %s", err, out, share)
		}
	}
	checkShare(t, root, "vshr", share)
	checkStoreHidden(t, root, "vshr", share)
}
