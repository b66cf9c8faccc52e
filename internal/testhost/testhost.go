//go:build linux

// Package testhost starts, for tests, a Linux host that berth did not
// make: a Debian 12 root filesystem (debootstrap, cached under build/)
// running systemd and OpenSSH as a container of the machine's Docker
// Engine, with a user "berth" that has passwordless sudo and a user
// "nosudo" that has not.
package testhost

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/sshutil"
)

// Host is a running test host.
type Host struct {
	Container string
	Host      string // 127.0.0.1
	Port      int    // its SSH port on 127.0.0.1
	KeyPath   string // the private key users "berth", "nosudo" and root accept
	Key       *sshutil.KeyPair
}

// Options choose how the host runs.
type Options struct {
	// NoSystemd runs sshd alone as the container's init, for a host with
	// neither systemd nor berth-os's agent slot.
	NoSystemd bool
}

// rootfsTar is the cached root filesystem, relative to the repository.
const rootfsTar = "build/debian-sshd-rootfs.tar"

// Start runs a host until the test ends.
func Start(t *testing.T, opts Options) *Host {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommand(t, "docker", "debootstrap")
	image := ensureImage(t)

	// A name known before `docker run`, so that a run that fails after
	// creating the container still has it removed.
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "berth-testhost-" + hex.EncodeToString(r[:])
	t.Cleanup(func() { _ = exec.Command("docker", "rm", "-f", name).Run() })
	args := []string{"run", "-d", "--name", name, "-p", "127.0.0.1::22"}
	if opts.NoSystemd {
		args = append(args, image, "/bin/sh", "-c", "mkdir -p /run/sshd && exec /usr/sbin/sshd -D -e")
	} else {
		args = append(args, "--cgroupns=host", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
			"--tmpfs", "/run", "--tmpfs", "/run/lock", "-e", "container=docker", image, "/lib/systemd/systemd")
	}
	out := docker(t, args...)
	h := &Host{Container: strings.TrimSpace(out), Host: "127.0.0.1"}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := exec.Command("docker", "logs", "--tail", "30", h.Container).CombinedOutput()
			t.Logf("test host's console:\n%s", logs)
		}
	})

	dir := t.TempDir()
	key, err := sshutil.GenerateKey(filepath.Join(dir, "id_ed25519"), "berth-testhost")
	if err != nil {
		t.Fatal(err)
	}
	h.Key, h.KeyPath = key, key.Path
	setup := `set -e
id nosudo >/dev/null 2>&1 || useradd -m -s /bin/bash nosudo
for u in berth nosudo root; do
  home=$(getent passwd $u | cut -d: -f6)
  install -d -m 0700 -o $u -g $u $home/.ssh
  printf '%s\n' "$KEY" > $home/.ssh/authorized_keys
  chown $u:$u $home/.ssh/authorized_keys
  chmod 0600 $home/.ssh/authorized_keys
done`
	docker(t, "exec", "-e", "KEY="+key.PublicKey, h.Container, "sh", "-c", setup)

	portOut := docker(t, "port", h.Container, "22/tcp")
	_, p, err := net.SplitHostPort(strings.TrimSpace(strings.Split(portOut, "\n")[0]))
	if err != nil {
		t.Fatalf("docker port: %q: %v", portOut, err)
	}
	h.Port, _ = strconv.Atoi(p)
	h.waitSSH(t)
	return h
}

// Target is how to reach the host as user, pinning its host key in dir.
func (h *Host) Target(user, dir string) sshutil.Target {
	return sshutil.Target{
		Addr: net.JoinHostPort(h.Host, strconv.Itoa(h.Port)), User: user, Key: h.Key,
		HostKeys: &sshutil.HostKeys{Machine: "testhost", Path: filepath.Join(dir, "known_hosts")},
	}
}

// Dial connects as user; the connection closes when the test ends.
func (h *Host) Dial(t *testing.T, user string) *sshutil.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := sshutil.Dial(ctx, h.Target(user, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Exec runs a command in the host as root, outside SSH, and returns its
// combined output and error.
func (h *Host) Exec(args ...string) (string, error) {
	out, err := exec.Command("docker", append([]string{"exec", h.Container}, args...)...).CombinedOutput()
	return string(out), err
}

func (h *Host) waitSSH(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := sshutil.WaitForSSH(ctx, h.Target("berth", t.TempDir()), sshutil.WaitOptions{Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("test host's sshd: %v", err)
	}
	c.Close()
}

// ensureImage imports the cached root filesystem into the Docker Engine,
// building it first when it is missing (minutes; once per clone).
func ensureImage(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot(t)
	tarPath := filepath.Join(root, rootfsTar)
	if err := os.MkdirAll(filepath.Dir(tarPath), 0o755); err != nil {
		t.Fatal(err)
	}
	lock := flock.New(tarPath + ".lock")
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	fi, err := os.Stat(tarPath)
	if err != nil {
		t.Logf("building the test host's root filesystem (debootstrap, once): %s", tarPath)
		cmd := exec.Command(filepath.Join(root, "scripts", "debian-sshd-rootfs.sh"), tarPath)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build test host rootfs: %v\n%s", err, out)
		}
		if fi, err = os.Stat(tarPath); err != nil {
			t.Fatal(err)
		}
	}
	image := fmt.Sprintf("berth-test/debian-sshd:%d-%d", fi.Size(), fi.ModTime().Unix())
	if exec.Command("docker", "image", "inspect", image).Run() != nil {
		docker(t, "import", tarPath, image)
	}
	// Tests leave the host's Docker Engine as they found it: the image goes
	// after the test's container (registered later, so removed first). A
	// test of this package still running on it keeps it (rmi refuses).
	t.Cleanup(func() { exec.Command("docker", "rmi", image).Run() })
	return image
}

func docker(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}
