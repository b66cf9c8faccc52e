package berthos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/berthvm/berth/internal/seed"
)

// guest is what a test VM is made of: a generated key, a seed and a blank
// data disk in a temporary folder.
type guest struct {
	dir      string
	iso      string
	hostname string
	signer   ssh.Signer
	seedPath string
	diskPath string
}

// newGuest makes a key, a seed naming hostname and a blank 1 GiB qcow2
// data disk.
func newGuest(t testing.TB, iso, hostname string) *guest {
	t.Helper()
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	g := &guest{
		dir: dir, iso: iso, hostname: hostname, signer: signer,
		seedPath: filepath.Join(dir, "seed.iso"),
		diskPath: filepath.Join(dir, "data.qcow2"),
	}
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey()))) + " berthos-test"
	cfg := seed.Config{InstanceID: hostname + "-1", Hostname: hostname, SSHAuthorizedKeys: []string{key}}
	if err := seed.Write(g.seedPath, cfg); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", g.diskPath, "1G").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v\n%s", err, out)
	}
	return g
}

// vm is a running QEMU.
type vm struct {
	t       testing.TB
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
	port    int
	qmpPath string
	serial  string
	started time.Time
}

// boot starts QEMU (TCG, small) on the guest's ISO, seed and disk, with SSH
// forwarded from a free port on 127.0.0.1. The VM is killed when the test
// ends.
func (g *guest) boot(t testing.TB) *vm {
	t.Helper()
	port := freePort(t)
	v := &vm{
		t: t, port: port, exited: make(chan struct{}),
		qmpPath: filepath.Join(g.dir, "qmp.sock"),
		serial:  filepath.Join(g.dir, "serial.log"),
	}
	os.Remove(v.qmpPath)
	args := []string{
		"-accel", "tcg", "-smp", "2", "-m", "512",
		"-display", "none", "-boot", "d",
		"-cdrom", g.iso,
		"-drive", "file=" + g.seedPath + ",media=cdrom,if=ide,index=1,readonly=on",
		"-drive", "file=" + g.diskPath + ",if=virtio,format=qcow2",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", port),
		"-device", "virtio-net-pci,netdev=n0",
		"-chardev", "file,id=s0,path=" + v.serial, "-serial", "chardev:s0",
		"-qmp", "unix:" + v.qmpPath + ",server=on,wait=off",
	}
	v.cmd = exec.Command("qemu-system-x86_64", args...)
	var stderr bytes.Buffer
	v.cmd.Stderr = &stderr
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	go func() {
		v.waitErr = v.cmd.Wait()
		if v.waitErr != nil && stderr.Len() > 0 {
			v.waitErr = fmt.Errorf("%w: %s", v.waitErr, strings.TrimSpace(stderr.String()))
		}
		close(v.exited)
	}()
	t.Cleanup(func() {
		v.cmd.Process.Kill()
		<-v.exited
		if t.Failed() {
			t.Logf("serial console of the VM (last lines):\n%s", v.serialTail(60))
		}
	})
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serialTail returns the last n lines of the serial console.
func (v *vm) serialTail(n int) string {
	b, _ := os.ReadFile(v.serial)
	lines := strings.Split(strings.ReplaceAll(string(b), "\r", ""), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dial waits until the guest's SSH server accepts signer, and returns the
// client and the host key it presented.
func (v *vm) dial(ctx context.Context, signer ssh.Signer) (*ssh.Client, ssh.PublicKey, error) {
	var last error
	for {
		var hostKey ssh.PublicKey
		cfg := &ssh.ClientConfig{
			User: "root",
			Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
			HostKeyCallback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
				hostKey = key
				return nil
			},
			Timeout: 10 * time.Second,
		}
		c, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", v.port), cfg)
		if err == nil {
			return c, hostKey, nil
		}
		last = err
		select {
		case <-v.exited:
			return nil, nil, fmt.Errorf("qemu exited before SSH answered: %v", v.waitErr)
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("ssh to 127.0.0.1:%d did not answer: %w (last error: %v)", v.port, ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// run runs cmd in the guest and returns its output; a non-zero exit is an
// error that carries the output.
func run(c *ssh.Client, cmd string) (string, error) {
	s, err := c.NewSession()
	if err != nil {
		return "", fmt.Errorf("new session: %w", err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		return string(out), fmt.Errorf("%q: %w: %s", cmd, err, out)
	}
	return string(out), nil
}

// mustRun is run that fails the test on error.
func mustRun(t testing.TB, c *ssh.Client, cmd string) string {
	t.Helper()
	out, err := run(c, cmd)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// qmp sends one QMP command and waits for its answer.
func (v *vm) qmp(command string) error {
	conn, err := net.DialTimeout("unix", v.qmpPath, 5*time.Second)
	if err != nil {
		return fmt.Errorf("qmp: %w", err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadBytes('\n'); err != nil { // greeting
		return fmt.Errorf("qmp greeting: %w", err)
	}
	for _, c := range []string{"qmp_capabilities", command} {
		if err := json.NewEncoder(conn).Encode(map[string]string{"execute": c}); err != nil {
			return fmt.Errorf("qmp %s: %w", c, err)
		}
		for {
			line, err := r.ReadBytes('\n')
			if err != nil {
				return fmt.Errorf("qmp %s: %w", c, err)
			}
			var msg struct {
				Return json.RawMessage
				Error  *struct{ Desc string }
			}
			if err := json.Unmarshal(line, &msg); err != nil {
				return fmt.Errorf("qmp %s: %w", c, err)
			}
			if msg.Error != nil {
				return fmt.Errorf("qmp %s: %s", c, msg.Error.Desc)
			}
			if msg.Return != nil {
				break
			}
			// An event; the answer follows.
		}
	}
	return nil
}

// waitExit waits until QEMU exits by itself.
func (v *vm) waitExit(ctx context.Context) error {
	select {
	case <-v.exited:
		var ee *exec.ExitError
		if v.waitErr != nil && !errors.As(v.waitErr, &ee) {
			return v.waitErr
		}
		if ee != nil {
			return fmt.Errorf("qemu: %w", v.waitErr)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("qemu still runs: %w", ctx.Err())
	}
}

// dataDiskState returns dumpe2fs's header of the ext4 file system on the
// guest's (stopped) data disk.
func (g *guest) dataDiskState(t testing.TB) string {
	t.Helper()
	raw := filepath.Join(g.dir, "data.raw")
	if out, err := exec.Command("qemu-img", "convert", "-O", "raw", g.diskPath, raw).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v\n%s", err, out)
	}
	defer os.Remove(raw)
	out, err := exec.Command("dumpe2fs", "-h", raw).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpe2fs: %v\n%s", err, out)
	}
	return string(out)
}

// field returns the value of "key: value" or "key=value" in text.
func field(text, key, sep string) string {
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, sep); ok && strings.TrimSpace(k) == key {
			v = strings.TrimSpace(v)
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return v
		}
	}
	return ""
}
