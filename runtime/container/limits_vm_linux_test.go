package container

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/berthvm/berth/internal/seed"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// runInVM runs this package's tests matching pattern inside a berth-os VM
// (pure cgroup v2), for hosts whose cgroup controllers are held by v1.
func runInVM(t *testing.T, pattern string) {
	t.Helper()
	if os.Getenv("BERTH_TEST_IN_VM") == "1" {
		t.Fatal("the berth-os VM offers no cgroup v2 memory, pids and cpu controllers")
	}
	testenv.NeedRoot(t)
	testenv.NeedQEMU(t)
	testenv.NeedCommand(t, "go")
	iso := testenv.ISO(t)
	dir := t.TempDir()

	bin := filepath.Join(dir, "container.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build static test binary: %v\n%s", err, out)
	}

	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	seedPath, disk := filepath.Join(dir, "seed.iso"), filepath.Join(dir, "data.qcow2")
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if err := seed.Write(seedPath, seed.Config{InstanceID: "limits-1", Hostname: "limits", SSHAuthorizedKeys: []string{key}}); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", disk, "2G").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	serial := filepath.Join(dir, "serial.log")
	qemu := exec.Command("qemu-system-x86_64",
		"-accel", "tcg", "-smp", "2", "-m", "1024", "-display", "none", "-boot", "d",
		"-cdrom", iso,
		"-drive", "file="+seedPath+",media=cdrom,if=ide,index=1,readonly=on",
		"-drive", "file="+disk+",if=virtio,format=qcow2",
		"-netdev", fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", port),
		"-device", "virtio-net-pci,netdev=n0",
		"-chardev", "file,id=s0,path="+serial, "-serial", "chardev:s0")
	if err := qemu.Start(); err != nil {
		t.Fatalf("start qemu: %v", err)
	}
	exited := make(chan struct{})
	go func() { qemu.Wait(); close(exited) }()
	t.Cleanup(func() {
		qemu.Process.Kill()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(serial)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("VM serial console (end):\n%s", b)
		}
	})

	cfg := &ssh.ClientConfig{User: "root", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second}
	var c *ssh.Client
	testwait.For(t, 5*time.Minute, "the VM's SSH to answer", func() (err error) {
		select {
		case <-exited:
			t.Fatalf("qemu exited before SSH answered")
		default:
		}
		c, err = ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
		return err
	})
	defer c.Close()

	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	s.Stdin = f
	if out, err := s.CombinedOutput("cat > /tmp/container.test && chmod 755 /tmp/container.test"); err != nil {
		t.Fatalf("copy test binary into the VM: %v %s", err, out)
	}
	s.Close()

	s, err = c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cmd := fmt.Sprintf("cd /tmp && BERTH_TEST_IN_VM=1 BERTH_TEST_NOSKIP=1 /tmp/container.test -test.v -test.timeout 15m -test.run '%s' 2>&1", pattern)
	out, err := s.CombinedOutput(cmd)
	t.Logf("in the berth-os VM: %s\n%s", cmd, out)
	if err != nil {
		t.Fatalf("tests in the VM failed: %v", err)
	}
}
