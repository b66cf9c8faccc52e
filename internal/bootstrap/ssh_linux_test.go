package bootstrap

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/sshutil"
	"github.com/berthvm/berth/sshutil/sshtest"
)

// closedPort is a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestDialSSHRefused: a refused connection names the machine's state and
// how to start it, unless the machine runs (its SSH server is not up yet).
func TestDialSSHRefused(t *testing.T) {
	for _, st := range []drivers.State{drivers.StateRunning, drivers.StateStopped} {
		d := &stubDriver{state: st, ep: drivers.Endpoint{Host: "127.0.0.1", Port: closedPort(t), User: "root"}}
		m := stubMachine(t, d)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c, err := DialSSH(ctx, m)
		cancel()
		if err == nil {
			c.Close()
			t.Fatalf("%s: DialSSH to a closed port succeeded", st)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s: DialSSH = %v, want connection refused", st, err)
		}
		hint := "machine \"dev\" is Stopped (start it with `berth start dev`)"
		if got := strings.Contains(err.Error(), hint); got != (st == drivers.StateStopped) {
			t.Errorf("%s: DialSSH error %q; holds %q: %v, want %v", st, err, hint, got, !got)
		}
	}
}

// TestWaitSSH: WaitSSH and DialSSH reach a real SSH server with the key
// MakeKey made, and WaitSSH pins its host key.
func TestWaitSSH(t *testing.T) {
	d := &stubDriver{state: drivers.StateRunning}
	m := stubMachine(t, d)
	pub, err := os.ReadFile(filepath.Join(m.Dir, sshutil.KeyFile+".pub"))
	if err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, sshtest.OpenSSH, string(pub))
	d.ep = drivers.Endpoint{Host: srv.Host, Port: srv.Port, User: srv.User}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := WaitSSH(ctx, m); err != nil {
		t.Fatalf("WaitSSH: %v", err)
	}
	known, err := os.ReadFile(filepath.Join(m.Dir, sshutil.KnownHostsFile))
	if err != nil || !strings.Contains(string(known), strings.Fields(srv.HostKeyPub)[1]) {
		t.Errorf("after WaitSSH %s holds %q (%v), want the server's host key", sshutil.KnownHostsFile, known, err)
	}
	c, err := DialSSH(ctx, m)
	if err != nil {
		t.Fatalf("DialSSH: %v", err)
	}
	c.Close()
}
