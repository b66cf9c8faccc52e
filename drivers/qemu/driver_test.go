package qemu

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/berthvm/berth/drivers"
)

func TestStateOf(t *testing.T) {
	tests := []struct {
		status  string
		want    drivers.State
		wantErr bool
	}{
		{"running", drivers.StateRunning, false},
		{"paused", drivers.StatePaused, false},
		{"shutdown", drivers.StateStopping, false},
		{"prelaunch", drivers.StateStarting, false},
		{"guest-panicked", drivers.StateError, true},
		{"io-error", drivers.StateError, true},
		{"something-new", drivers.StateError, true},
	}
	for _, tt := range tests {
		got, err := stateOf(tt.status)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("stateOf(%q) = %v, %v; want %v, error %v", tt.status, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseUsernet(t *testing.T) {
	out := "Hub -1 (n0):\r\n" +
		"  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ\r\n" +
		"  TCP[HOST_FORWARD]  13       127.0.0.1 38745       10.0.2.15    22     0     0\r\n" +
		"  UDP[HOST_FORWARD]  14         0.0.0.0  5353       10.0.2.15  5353     0     0\r\n" +
		"  TCP[HOST_FORWARD]  21               * 29999       10.0.2.15 29999     0     0\r\n" + // hostfwd_add tcp:0.0.0.0:29999 (QEMU 7.2)
		"  TCP[ESTABLISHED]   15       127.0.0.1 50000       10.0.2.15    22     0     0\r\n"
	got := parseUsernet(out)
	want := []drivers.Forward{
		{Proto: "tcp", HostIP: "127.0.0.1", HostPort: 38745, GuestPort: 22},
		{Proto: "udp", HostIP: "0.0.0.0", HostPort: 5353, GuestPort: 5353},
		{Proto: "tcp", HostIP: "0.0.0.0", HostPort: 29999, GuestPort: 29999},
	}
	if len(got) != len(want) {
		t.Fatalf("parseUsernet = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("forward %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestHostname(t *testing.T) {
	tests := []struct{ in, want string }{
		{"dev", "dev"},
		{"web-1.lab", "web-1.lab"},
		{"a-", "a"},
		{"x.-y-.z", "x.y.z"},
		{"a..b", "a.b"},
	}
	for _, tt := range tests {
		if got := hostname(tt.in); got != tt.want {
			t.Errorf("hostname(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidateNamesEveryBadFlag(t *testing.T) {
	d := New(drivers.Base{MachineName: "x"})
	d.CPUs, d.MemoryMB, d.DiskSizeMB, d.AccelRequested = 0, 10, 1, "turbo"
	err := d.validate()
	if err == nil {
		t.Fatal("validate accepted bad settings")
	}
	for _, want := range []string{"--qemu-cpus 0", "--qemu-memory 10", "--qemu-disk-size 1", `--qemu-accel "turbo"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("validate error %q does not name %q", err, want)
		}
	}
	if err := New(drivers.Base{}).validate(); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}

func TestInstallHint(t *testing.T) {
	tests := []struct{ goos, want string }{
		{"linux", "apt-get install qemu-system-x86 qemu-utils"},
		{"darwin", "brew install qemu"},
		{"windows", "qemu.org/download/#windows"},
	}
	for _, tt := range tests {
		if got := installHint(tt.goos); !strings.Contains(got, tt.want) {
			t.Errorf("installHint(%s) = %q, want it to say %q", tt.goos, got, tt.want)
		}
	}
}

func TestMissingQEMUNamesThePackage(t *testing.T) {
	d := newTestDriver(t, "dev")
	d.Binary = "qemu-system-does-not-exist"
	err := d.PreCreateCheck(context.Background())
	if !errors.Is(err, drivers.ErrPreCreate) {
		t.Fatalf("PreCreateCheck = %v, want ErrPreCreate", err)
	}
	var me *MissingError
	if !errors.As(err, &me) || me.Program != "qemu-system-does-not-exist" || me.Hint != hostHint {
		t.Fatalf("PreCreateCheck = %v, want a MissingError with the install hint", err)
	}
	_, err = d.qemuSystem().Run(context.Background(), "-version")
	if !errors.As(err, &me) {
		t.Errorf("running a missing qemu = %v, want a MissingError", err)
	}
}

func TestHostAccel(t *testing.T) {
	tests := []struct{ goos, goarch, guest, want string }{
		{"linux", "amd64", "amd64", "kvm"},
		{"darwin", "amd64", "amd64", "hvf"},
		{"windows", "amd64", "amd64", "whpx"},
		{"darwin", "arm64", "amd64", ""},
		{"linux", "arm64", "amd64", ""},
		{"darwin", "arm64", "arm64", "hvf"},
		{"linux", "arm64", "arm64", "kvm"},
		{"linux", "amd64", "arm64", ""},
	}
	for _, tt := range tests {
		if got := hostAccel(tt.goos, tt.goarch, tt.guest); got != tt.want {
			t.Errorf("hostAccel(%s, %s, %s guest) = %q, want %q", tt.goos, tt.goarch, tt.guest, got, tt.want)
		}
	}
}

func TestResolveAccel(t *testing.T) {
	exit := func(code int) func([]string) ([]byte, error) {
		return func([]string) ([]byte, error) {
			return nil, &RunError{Program: "qemu", Err: exitError(t, code)}
		}
	}
	cand := hostAccel(runtimeGOOS, runtimeGOARCH, runtimeGOARCH)
	tests := []struct {
		name      string
		requested string
		fn        func([]string) ([]byte, error)
		want      string
	}{
		{"explicit kept", "kvm", nil, "kvm"},
		{"tcg kept", "tcg", nil, "tcg"},
		{"probe exits as the guest asked", "auto", exit(probeExit), cand},
		{"probe fails", "auto", exit(1), "tcg"},
		{"probe exits 0", "auto", nil, "tcg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{fn: tt.fn}
			want := tt.want
			if want == "" {
				want = "tcg"
			}
			if got := resolveAccel(context.Background(), r, tt.requested, runtimeGOARCH); got != want {
				t.Errorf("resolveAccel(%s) = %s, want %s", tt.requested, got, want)
			}
			if tt.requested != "auto" && len(r.calls) != 0 {
				t.Errorf("an explicit accelerator was probed: %v", r.calls)
			}
		})
	}
}

func TestStateIgnoresForeignPID(t *testing.T) {
	d := newTestDriver(t, "dev")
	// Our own pid is alive but is not this machine's QEMU.
	if err := os.WriteFile(d.path(PIDFile), []byte(itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := d.State(context.Background())
	if st != drivers.StateStopped || err != nil {
		t.Errorf("State with a recycled pid = %v, %v; want Stopped", st, err)
	}
	if err := d.Kill(context.Background()); err != nil {
		t.Errorf("Kill with a recycled pid = %v", err)
	}
	if _, err := os.Stat(d.path(PIDFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Kill left the stale pidfile: %v", err)
	}
}
