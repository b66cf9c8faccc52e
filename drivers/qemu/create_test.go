package qemu

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/testenv"
)

func TestCreateMakesTheMachineFiles(t *testing.T) {
	d := newTestDriver(t, "dev")
	d.ISOSource = testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.9.0")
	d.AccelRequested = "tcg"
	img := &fakeRunner{fn: func(args []string) ([]byte, error) {
		return nil, os.WriteFile(args[len(args)-2], []byte("QFI\xfb"), 0o600)
	}}
	d.img = img
	d.sys = &fakeRunner{}

	if err := d.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantImg := []string{"create", "-q", "-f", "qcow2", d.path(DiskFile), "20000M"}
	if len(img.calls) != 1 || !slices.Equal(img.calls[0], wantImg) {
		t.Errorf("qemu-img calls = %q, want [%q]", img.calls, wantImg)
	}
	for _, f := range []string{BootFile, SeedFile, DiskFile} {
		if _, err := os.Stat(d.path(f)); err != nil {
			t.Errorf("Create did not make %s: %v", f, err)
		}
	}
	if id, err := isocache.VolumeID(d.path(SeedFile)); err != nil || id != "cidata" {
		t.Errorf("seed volume id = %q, %v; want cidata", id, err)
	}
	if d.ISOVersion != "berth-os-v0.9.0" || d.Accel != "tcg" || d.SSHPort == 0 || !strings.HasPrefix(d.InstanceID, "berth-") {
		t.Errorf("after Create: version %q accel %q port %d instance %q", d.ISOVersion, d.Accel, d.SSHPort, d.InstanceID)
	}
}

func TestCreateFailureLeavesNothing(t *testing.T) {
	d := newTestDriver(t, "dev")
	d.ISOSource = testenv.WriteFakeISO(t, filepath.Join(t.TempDir(), "berth-os.iso"), "berth-os-v0.9.0")
	d.img = &fakeRunner{fn: func(args []string) ([]byte, error) {
		return nil, &RunError{Program: "qemu-img", Err: errors.New("exit status 1"), Stderr: "qemu-img: disk.qcow2: No space left on device"}
	}}
	d.sys = &fakeRunner{}
	err := d.Create(context.Background())
	if err == nil || !strings.Contains(err.Error(), "No space left on device") {
		t.Fatalf("Create = %v, want the error with qemu-img's stderr", err)
	}
	left, _ := os.ReadDir(d.base.Dir)
	if len(left) != 0 {
		t.Errorf("a failed Create left %v", left)
	}
}

func TestCreateWithMissingISO(t *testing.T) {
	d := newTestDriver(t, "dev")
	d.ISOSource = filepath.Join(t.TempDir(), "nope.iso")
	d.img, d.sys = &fakeRunner{}, &fakeRunner{}
	err := d.Create(context.Background())
	if !errors.Is(err, isocache.ErrNoISO) || !strings.Contains(err.Error(), "nope.iso does not exist") {
		t.Fatalf("Create = %v, want a missing-ISO error naming the file", err)
	}
	left, _ := os.ReadDir(d.base.Dir)
	if len(left) != 0 {
		t.Errorf("a failed Create left %v", left)
	}
}

func TestStartNeedsItsFiles(t *testing.T) {
	d := newTestDriver(t, "dev")
	sys := &fakeRunner{}
	d.sys = sys
	for _, f := range []string{SeedFile, DiskFile} {
		os.WriteFile(d.path(f), []byte("x"), 0o600)
	}
	err := d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "boot ISO "+d.path(BootFile)+" is missing") {
		t.Fatalf("Start without boot.iso = %v, want an error naming it", err)
	}
	if len(sys.calls) != 0 {
		t.Errorf("qemu ran without its boot ISO: %q", sys.calls)
	}
	if _, err := os.Stat(d.path(DiskFile)); err != nil {
		t.Errorf("the failed start touched the disk: %v", err)
	}
}

func TestStartPicksAnotherPortWhenQEMUCannotBind(t *testing.T) {
	d := newTestDriver(t, "dev")
	for _, f := range []string{BootFile, SeedFile, DiskFile} {
		os.WriteFile(d.path(f), []byte("x"), 0o600)
	}
	d.Accel = "tcg"
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := held.Addr().(*net.TCPAddr).Port
	d.SSHPort = taken // Start sees it taken and picks another one first
	var ports []string
	d.sys = &fakeRunner{fn: func(args []string) ([]byte, error) {
		for _, a := range args {
			if strings.HasPrefix(a, "user,id=n0,hostfwd=") {
				ports = append(ports, a)
			}
		}
		return nil, &RunError{Program: "qemu", Err: errors.New("exit status 1"),
			Stderr: "qemu-system-x86_64: -netdev user,id=n0,hostfwd=tcp:127.0.0.1:1-:22: Could not set up host forwarding rule 'tcp:127.0.0.1:1-:22'"}
	}}
	err = d.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "host forwarding rule") {
		t.Fatalf("Start = %v, want the forwarding error", err)
	}
	if len(ports) != portAttempts {
		t.Fatalf("qemu ran %d times, want %d: %q", len(ports), portAttempts, ports)
	}
	if slices.Contains(ports, fmt.Sprintf("user,id=n0,hostfwd=tcp:127.0.0.1:%d-:22", taken)) {
		t.Errorf("Start used the taken port %d: %q", taken, ports)
	}
	if ports[0] == ports[1] {
		t.Errorf("Start retried the same port: %q", ports)
	}
}

func TestExplainVirtfs(t *testing.T) {
	d := newTestDriver(t, "dev")
	err := d.explain(&RunError{Program: "qemu", Err: errors.New("exit status 1"),
		Stderr: "qemu-system-x86_64: -virtfs local,path=/src,mount_tag=berth0,security_model=none,multidevs=remap: There is no option group 'virtfs'"})
	for _, want := range []string{"no option group 'virtfs'", "could not share a folder", "berth inspect dev", "--no-share"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explain = %q, want it to contain %q", err, want)
		}
	}
}

// TestExportsSkipMissingFolders: a share whose host folder is gone is
// left out of QEMU's command line (QEMU would not start), and the others
// keep their tags.
func TestExportsSkipMissingFolders(t *testing.T) {
	d := newTestDriver(t, "dev")
	a, b := t.TempDir(), t.TempDir()
	d.base.Shares = []drivers.Share{{HostPath: a, GuestPath: "/a"}, {HostPath: filepath.Join(b, "gone"), GuestPath: "/gone"}, {HostPath: b, GuestPath: "/b"}}
	got := d.exports()
	want := []Share{{Tag: "berth0", Dir: a}, {Tag: "berth2", Dir: b}}
	if !slices.Equal(got, want) {
		t.Errorf("exports = %v, want %v", got, want)
	}
}

func TestExplainDamagedDisk(t *testing.T) {
	d := newTestDriver(t, "dev")
	err := d.explain(&RunError{Program: "qemu", Err: errors.New("exit status 1"),
		Stderr: "qemu-system-x86_64: -drive file=" + d.path(DiskFile) + ",format=qcow2,if=virtio: Image is not in qcow2 format"})
	for _, want := range []string{"data disk", "is damaged", "Image is not in qcow2 format", "left as it is"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("explain = %q, want it to contain %q", err, want)
		}
	}
}
