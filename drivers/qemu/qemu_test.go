package qemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// bareMachine creates a machine with real qemu-img and qemu-system whose
// boot "ISO" holds no OS: QEMU runs it, the firmware finds nothing to
// boot. It tests what the driver does with the QEMU process, quickly and
// without the berth-os ISO.
func bareMachine(t *testing.T, name string) *Driver {
	t.Helper()
	testenv.NeedQEMU(t)
	d := newTestDriver(t, name)
	d.ISOSource = testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.0.0")
	d.AccelRequested, d.CPUs, d.MemoryMB, d.DiskSizeMB = "tcg", 1, 256, 200
	ctx := context.Background()
	if err := d.PreCreateCheck(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Remove(context.Background()); err != nil {
			t.Errorf("remove: %v", err)
		}
	})
	return d
}

func mustState(t *testing.T, d *Driver, want drivers.State) {
	t.Helper()
	got, err := d.State(context.Background())
	if got != want || err != nil {
		t.Fatalf("State = %v, %v; want %v", got, err, want)
	}
}

func TestRealQEMULifecycle(t *testing.T) {
	d := bareMachine(t, "life")
	ctx := context.Background()
	mustState(t, d, drivers.StateStopped)
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, drivers.StateRunning)
	pid := d.runningPID()
	if err := d.Start(ctx); err != nil || d.runningPID() != pid {
		t.Fatalf("second Start = %v, pid %d -> %d; want nil and the same process", err, pid, d.runningPID())
	}
	ep, err := d.SSHEndpoint(ctx)
	if err != nil || ep.Host != "127.0.0.1" || ep.Port != d.SSHPort || ep.User != "root" {
		t.Fatalf("SSHEndpoint = %+v, %v; want 127.0.0.1:%d root", ep, err, d.SSHPort)
	}
	// QEMU listens on the forwarded port.
	conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ep.Port), 2*time.Second)
	if err != nil {
		t.Fatalf("nothing listens on the SSH forward: %v", err)
	}
	conn.Close()
	if _, err := os.Stat(d.path(ConsoleFile)); err != nil {
		t.Errorf("no console log: %v", err)
	}

	// The guest has no OS, so it ignores the power button: Stop kills it
	// after its timeout.
	d.SetStopTimeout(2 * time.Second)
	start := time.Now()
	if err := d.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 2*time.Second || el > 20*time.Second {
		t.Errorf("Stop took %s, want the 2s timeout then a kill", el)
	}
	mustState(t, d, drivers.StateStopped)
	if processAlive(pid) {
		t.Fatalf("qemu %d still runs after Stop", pid)
	}
	if err := d.Stop(ctx); err != nil {
		t.Errorf("Stop on a stopped machine = %v", err)
	}
	if err := d.Kill(ctx); err != nil {
		t.Errorf("Kill on a stopped machine = %v", err)
	}
}

func TestRealQEMUKilledFromOutside(t *testing.T) {
	d := bareMachine(t, "outside")
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	pid := d.runningPID()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 10*time.Second, fmt.Sprintf("QEMU %d to end", pid), func() bool { return !processAlive(pid) })
	mustState(t, d, drivers.StateStopped)
	if err := d.Start(ctx); err != nil {
		t.Fatalf("Start after an outside kill: %v", err)
	}
	mustState(t, d, drivers.StateRunning)
	if err := d.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, drivers.StateStopped)
}

func TestRealQEMUTakenPort(t *testing.T) {
	d := bareMachine(t, "port")
	ctx := context.Background()
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	first := d.SSHPort
	if err := d.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	// Free again: the port is kept across restarts.
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if d.SSHPort != first {
		t.Errorf("restart moved SSH from port %d to %d though it was free", first, d.SSHPort)
	}
	if err := d.Kill(ctx); err != nil {
		t.Fatal(err)
	}
	// Someone else takes it: Start picks another one.
	// The port is in the ephemeral range, so another program's connection
	// may hold it already: then it is taken all the same.
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", first))
	switch {
	case err == nil:
		defer l.Close()
	case !errors.Is(err, syscall.EADDRINUSE):
		t.Fatal(err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ep, err := d.SSHEndpoint(ctx)
	if err != nil || ep.Port == first || ep.Port == 0 {
		t.Fatalf("SSHEndpoint with port %d taken = %+v, %v; want another port", first, ep, err)
	}
}

func TestRealQEMUTakenPortAtLaunch(t *testing.T) {
	// The port is free when Start checks it and taken when QEMU binds it:
	// QEMU's own failure makes Start pick another.
	d := bareMachine(t, "race")
	d.Accel = "tcg"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	spec := d.spec("tcg", taken)
	spec.QMP = d.path(QMPFile)
	err = d.launch(context.Background(), Args(spec))
	if !isPortTaken(err) {
		t.Fatalf("qemu with a taken port = %v, want a host forwarding error", err)
	}
}

func TestRealQEMUForwards(t *testing.T) {
	d := bareMachine(t, "fwd")
	ctx := context.Background()
	f := drivers.Forward{Proto: "tcp", HostPort: freePortT(t), GuestPort: 8080}
	if err := d.AddForward(ctx, f); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("AddForward on a stopped machine = %v, want a not-running error", err)
	}
	if err := d.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // the second add is a no-op
		if err := d.AddForward(ctx, f); err != nil {
			t.Fatalf("AddForward #%d: %v", i+1, err)
		}
	}
	fwds, err := d.forwards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := drivers.Forward{Proto: "tcp", HostIP: "127.0.0.1", HostPort: f.HostPort, GuestPort: 8080}
	n := 0
	for _, got := range fwds {
		if got == want {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("forwards = %+v, want %+v once", fwds, want)
	}
	if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", f.HostPort)); err != nil {
		t.Errorf("the added forward does not listen: %v", err)
	} else {
		c.Close()
	}
	for i := 0; i < 2; i++ { // removing a missing one is a no-op
		if err := d.RemoveForward(ctx, f); err != nil {
			t.Fatalf("RemoveForward #%d: %v", i+1, err)
		}
	}
	if !hostport.Free(f.HostPort) {
		t.Errorf("port %d still taken after RemoveForward", f.HostPort)
	}
	// Another program on the port: QEMU's refusal becomes an error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := drivers.Forward{HostPort: l.Addr().(*net.TCPAddr).Port, GuestPort: 80}
	if err := d.AddForward(ctx, busy); err == nil {
		t.Errorf("AddForward on a taken port succeeded")
	}
}

func TestRealQEMUCorruptDisk(t *testing.T) {
	d := bareMachine(t, "corrupt")
	if err := os.WriteFile(d.path(DiskFile), []byte("this is not a qcow2 image"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "data disk") || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("Start with a corrupt disk = %v, want a damaged-disk error", err)
	}
	for _, f := range []string{BootFile, SeedFile, DiskFile} {
		if _, err := os.Stat(d.path(f)); err != nil {
			t.Errorf("the failed start removed %s: %v", f, err)
		}
	}
	mustState(t, d, drivers.StateStopped)
}

func TestRealQEMUAccelProbe(t *testing.T) {
	testenv.NeedQEMU(t)
	sys := program{name: DefaultBinary, hint: hostHint}
	if err := probeAccel(context.Background(), sys, "tcg", ArchAMD64, time.Minute); err != nil {
		t.Errorf("the tcg test boot failed: %v", err)
	}
	arm := program{name: binaryFor(ArchARM64), hint: hostHint}
	if err := probeAccel(context.Background(), arm, "tcg", ArchARM64, time.Minute); err != nil {
		t.Errorf("the arm64 tcg test boot failed: %v", err)
	}
	err := probeAccel(context.Background(), sys, "no-such-accel", ArchAMD64, time.Minute)
	if err == nil {
		t.Error("the test boot of an unknown accelerator succeeded")
	}
	var re *RunError
	if !errors.As(err, &re) || re.Stderr == "" {
		t.Errorf("probe error %v carries no stderr", err)
	}
}

func freePortT(t *testing.T) int {
	t.Helper()
	p, err := hostport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRealQEMULongSocketPath(t *testing.T) {
	name := strings.Repeat("long", 15) // 60 characters
	d := bareMachine(t, name)
	if len(d.path(QMPFile)) <= maxSocketPath {
		t.Fatalf("socket path %s is not long enough for this test", d.path(QMPFile))
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustState(t, d, drivers.StateRunning)
	if _, err := os.Stat(d.path(QMPFile)); err != nil {
		t.Errorf("the socket is not in the machine folder: %v", err)
	}
}
