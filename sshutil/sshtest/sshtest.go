//go:build linux

// Package sshtest starts real SSH servers (OpenSSH's sshd and dropbear) on
// 127.0.0.1 for tests, each with its own host key and authorized key.
package sshtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
)

// Kinds of server.
const (
	OpenSSH  = "openssh"
	Dropbear = "dropbear"
)

// Kinds lists every kind of server, for tests that run against each.
var Kinds = []string{OpenSSH, Dropbear}

// sftpServer is where Debian's openssh-sftp-server puts the SFTP server
// that dropbear runs (it is a link to /usr/lib/openssh/sftp-server).
const sftpServer = "/usr/lib/sftp-server"

// Server is a running SSH server that accepts User with the authorized
// key it was started with. It is stopped when the test ends.
type Server struct {
	Kind        string
	Host        string // 127.0.0.1
	Port        int
	User        string // root
	Dir         string // its configuration, keys and logs
	HostKeyPath string // the private host key
	HostKeyPub  string // its public line ("ssh-ed25519 AAAA...")

	authorizedKey string
	cmd           *exec.Cmd
	log           *syncBuffer
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Start starts a server of kind that lets root log in with authorizedKey
// (an authorized_keys line; empty for none yet, see Authorize). It needs root (sshd and dropbear switch to the
// logged-in user) and the Debian packages openssh-server, dropbear-bin and
// openssh-sftp-server.
func Start(t testing.TB, kind, authorizedKey string) *Server {
	t.Helper()
	testenv.NeedRoot(t)
	switch kind {
	case OpenSSH:
		testenv.NeedCommand(t, "sshd", "ssh-keygen", "unshare", "mount")
	case Dropbear:
		testenv.NeedCommand(t, "dropbear", "dropbearkey", "unshare", "mount")
	default:
		t.Fatalf("sshtest: unknown server kind %q", kind)
	}
	if _, err := os.Stat(sftpServer); err != nil {
		testenv.Skip(t, sftpServer+" is missing (Debian package openssh-sftp-server; scripts/deps.sh installs it)")
	}
	s := &Server{Kind: kind, Host: "127.0.0.1", User: "root", Dir: t.TempDir(), authorizedKey: authorizedKey}
	if err := s.newHostKey(); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	if err := s.writeConfig(); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	var err error
	for try := 0; try < 5; try++ {
		if s.Port, err = freePort(); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("sshtest: start %s: %v", kind, err)
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("%s log:\n%s", kind, s.log.String())
		}
	})
	return s
}

// Restart stops the server and starts it again on the same port; with
// newHostKey it first replaces its host key (a re-created machine). It
// reports failures with t.Errorf, so that a test may call it from another
// goroutine (a machine that comes up later); such a test waits for it to
// return before it ends.
func (s *Server) Restart(t testing.TB, newHostKey bool) {
	t.Helper()
	s.stop()
	if newHostKey {
		if err := s.newHostKey(); err != nil {
			t.Errorf("sshtest: %v", err)
			return
		}
	}
	if err := s.start(); err != nil {
		t.Errorf("sshtest: restart %s: %v", s.Kind, err)
	}
}

// Authorize lets the key line (authorized_keys format) log in too.
func (s *Server) Authorize(t testing.TB, line string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "home", ".ssh", "authorized_keys"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.TrimSpace(line) + "\n"); err != nil {
		t.Fatalf("sshtest: %v", err)
	}
}

// Stop stops the server (a machine that went away).
func (s *Server) Stop() { s.stop() }

func (s *Server) newHostKey() error {
	s.HostKeyPath = filepath.Join(s.Dir, "host_ed25519_key")
	os.Remove(s.HostKeyPath)
	os.Remove(s.HostKeyPath + ".pub")
	var gen, pub *exec.Cmd
	if s.Kind == OpenSSH {
		gen = exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", s.HostKeyPath)
		pub = exec.Command("ssh-keygen", "-y", "-f", s.HostKeyPath)
	} else {
		gen = exec.Command("dropbearkey", "-t", "ed25519", "-f", s.HostKeyPath)
		pub = exec.Command("dropbearkey", "-y", "-f", s.HostKeyPath)
	}
	if out, err := gen.CombinedOutput(); err != nil {
		return fmt.Errorf("host key: %s: %w: %s", gen, err, out)
	}
	out, err := pub.Output()
	if err != nil {
		return fmt.Errorf("host key: %s: %w", pub, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "ssh-ed25519 ") {
			f := strings.Fields(line)
			s.HostKeyPub = f[0] + " " + f[1]
		}
	}
	if s.HostKeyPub == "" {
		return fmt.Errorf("host key: no public key in the output of %s: %s", pub, out)
	}
	return nil
}

func (s *Server) writeConfig() error {
	// Mounted over /root while the server runs (see start).
	home := filepath.Join(s.Dir, "home")
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		return err
	}
	if err := os.Chmod(home, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "authorized_keys"), []byte(s.authorizedKey+"\n"), 0o600); err != nil {
		return err
	}
	if s.Kind == OpenSSH {
		// sshd refuses to start without its privilege separation folder.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) sshdConfig() string {
	return fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PidFile %s
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
LogLevel VERBOSE
`, s.Port, s.HostKeyPath, filepath.Join(s.Dir, "home", ".ssh", "authorized_keys"), filepath.Join(s.Dir, "sshd.pid"))
}

func (s *Server) start() error {
	s.log = &syncBuffer{}
	var server []string
	if s.Kind == OpenSSH {
		cfg := filepath.Join(s.Dir, "sshd_config")
		if err := os.WriteFile(cfg, []byte(s.sshdConfig()), 0o600); err != nil {
			return err
		}
		sshd, err := exec.LookPath("sshd")
		if err != nil {
			return err
		}
		// sshd wants to be started by its absolute path (it re-executes
		// itself for every connection).
		server = []string{sshd, "-D", "-e", "-f", cfg}
	} else {
		server = []string{"dropbear", "-F", "-E", "-s", "-p", s.Addr(), "-r", s.HostKeyPath, "-P", filepath.Join(s.Dir, "dropbear.pid")}
	}
	// The server runs in a private mount namespace where the test's home
	// folder is mounted over /root: dropbear reads only
	// ~/.ssh/authorized_keys, and the host's own dotfiles (a slow
	// .bashrc) stay out of the tests and benchmarks.
	args := append([]string{"-m", "--propagation", "private", "sh", "-c", `mount --bind "$1" /root && shift && exec "$@"`,
		"sh", filepath.Join(s.Dir, "home")}, server...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("%s exited: %s", cmd, s.log.String())
		default:
		}
		if banner(s.Addr()) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	return errors.New("no SSH banner within 15s: " + s.log.String())
}

// banner reports whether an SSH server answers at addr.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "SSH-"
}

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	// The whole process group: the server and its per-connection children.
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	for i := 0; i < 200 && syscall.Kill(s.cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	s.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
