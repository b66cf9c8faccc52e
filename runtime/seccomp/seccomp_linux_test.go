package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	bpfseccomp "github.com/elastic/go-seccomp-bpf"
	profiles "github.com/moby/profiles/seccomp"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// allowed reports the action p takes on name when called with no
// argument conditions to meet, or the conditions it is allowed under.
func actionOf(p *bpfseccomp.Policy, name string) (bpfseccomp.Action, bool, bool) {
	for _, g := range p.Syscalls {
		if slices.Contains(g.Names, name) {
			return g.Action, false, true
		}
		for _, nc := range g.NamesWithCondtions {
			if nc.Name == name {
				return g.Action, true, true
			}
		}
	}
	return p.DefaultAction, false, false
}

func TestPolicyFromDockerDefault(t *testing.T) {
	for _, goarch := range []string{"amd64", "arm64"} {
		env := Env{Arch: goarch, Caps: DefaultCaps, Kernel: profiles.KernelVersion{Kernel: 6, Major: 1}}
		p, err := Policy(profiles.DefaultProfile(), env)
		if err != nil {
			t.Fatal(err)
		}
		withAdmin := env
		withAdmin.Caps = append(slices.Clone(DefaultCaps), "CAP_SYS_ADMIN")
		pa, err := Policy(profiles.DefaultProfile(), withAdmin)
		if err != nil {
			t.Fatal(err)
		}
		old := env
		old.Kernel = profiles.KernelVersion{Kernel: 4, Major: 4}
		po, err := Policy(profiles.DefaultProfile(), old)
		if err != nil {
			t.Fatal(err)
		}
		enosys := bpfseccomp.ActionErrno | bpfseccomp.Action(unix.ENOSYS)
		tests := []struct {
			p        *bpfseccomp.Policy
			name     string
			want     bpfseccomp.Action
			wantCond bool
		}{
			{p, "read", bpfseccomp.ActionAllow, false},
			{p, "execve", bpfseccomp.ActionAllow, false},
			{p, "keyctl", bpfseccomp.ActionErrno, false},
			{p, "add_key", bpfseccomp.ActionErrno, false},
			{p, "kexec_load", bpfseccomp.ActionErrno, false},
			{p, "unshare", bpfseccomp.ActionErrno, false},
			{pa, "unshare", bpfseccomp.ActionAllow, false}, // caps include
			{p, "clone", bpfseccomp.ActionAllow, true},     // no CLONE_NEW* flags
			{pa, "clone", bpfseccomp.ActionAllow, false},
			{p, "clone3", enosys, false}, // so that libc falls back to clone
			{p, "socket", bpfseccomp.ActionAllow, true},
			{p, "personality", bpfseccomp.ActionAllow, true},
			{p, "ptrace", bpfseccomp.ActionAllow, false},  // minKernel 4.8
			{po, "ptrace", bpfseccomp.ActionErrno, false}, // older kernel
			{p, "chroot", bpfseccomp.ActionAllow, false},  // CAP_SYS_CHROOT is a default
			{p, "reboot", bpfseccomp.ActionErrno, false},  // CAP_SYS_BOOT is not
		}
		for _, tc := range tests {
			got, cond, _ := actionOf(tc.p, tc.name)
			if got != tc.want || cond != tc.wantCond {
				t.Errorf("%s: %s = %v (conditions %v), want %v (conditions %v)", goarch, tc.name, got, cond, tc.want, tc.wantCond)
			}
		}
		if goarch != runtime.GOARCH {
			continue // go-seccomp-bpf assembles for the running architecture only
		}
		if _, err := Compile(p); err != nil {
			t.Errorf("%s: compile: %v", goarch, err)
		}
	}
}

// TestMaskedEqualLeftOut: a masked compare that go-seccomp-bpf cannot
// express leaves the rule out (the syscall stays denied).
func TestMaskedEqualLeftOut(t *testing.T) {
	prof := &profiles.Seccomp{
		LinuxSeccomp: specs.LinuxSeccomp{DefaultAction: specs.ActErrno},
		Syscalls: []*profiles.Syscall{
			{LinuxSyscall: specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActAllow}},
			{LinuxSyscall: specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActAllow,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0xff, ValueTwo: 0x10, Op: specs.OpMaskedEqual}}}},
			{LinuxSyscall: specs.LinuxSyscall{Names: []string{"no_such_call", "getppid"}, Action: specs.ActAllow}},
		},
	}
	p, err := Policy(prof, Env{Arch: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bpfseccomp.Action{"getpid": bpfseccomp.ActionAllow, "getppid": bpfseccomp.ActionAllow, "clone": bpfseccomp.ActionErrno} {
		if got, _, _ := actionOf(p, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

// TestInstall installs the default filter in a child process (this test
// binary again) and makes calls the profile refuses and allows.
func TestInstall(t *testing.T) {
	if os.Getenv("BERTH_SECCOMP_CHILD") == "1" {
		installedChild()
		return
	}
	if _, err := DefaultFilter(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestInstall$")
	cmd.Env = append(os.Environ(), "BERTH_SECCOMP_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

// installedChild is TestInstall's child: it fails the process (exit 1,
// message on stderr) when a call does not answer as the profile says.
func installedChild() {
	runtime.LockOSThread()
	f, err := DefaultFilter()
	if err == nil {
		// Without CAP_SYS_ADMIN (a non-root run) installing needs this.
		if unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == nil {
			err = Install(f)
		}
	}
	check := func(what string, got, want error) {
		if !errors.Is(got, want) && !(got == nil && want == nil) {
			fmt.Fprintf(os.Stderr, "%s: %v, want %v\n", what, got, want)
			os.Exit(1)
		}
	}
	check("install", err, nil)
	_, err = unix.AddKey("user", "berth", []byte("x"), unix.KEY_SPEC_PROCESS_KEYRING)
	check("add_key", err, unix.EPERM)
	_, err = unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
	check("keyctl", err, unix.EPERM)
	check("unshare(CLONE_NEWUSER)", unix.Unshare(unix.CLONE_NEWUSER), unix.EPERM)
	_, _, e := unix.Syscall(unix.SYS_CLONE3, 0, 0, 0)
	check("clone3", e, unix.ENOSYS)
	for _, s := range []struct {
		what              string
		family, typ, prot int
	}{
		{"socket(AF_INET6)", unix.AF_INET6, unix.SOCK_DGRAM, 0},
		{"socket(AF_NETLINK)", unix.AF_NETLINK, unix.SOCK_RAW, unix.NETLINK_ROUTE},
		{"socket(AF_UNIX)", unix.AF_UNIX, unix.SOCK_STREAM, 0},
	} {
		fd, err := unix.Socket(s.family, s.typ|unix.SOCK_CLOEXEC, s.prot)
		check(s.what, err, nil)
		unix.Close(fd)
	}
	_, _, e = unix.Syscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	check("personality(query)", errOrNil(e), nil)
	check("getpid", nil, nil)
	time.Sleep(time.Millisecond) // not a wait: the runtime's own calls (nanosleep, futex) still work
	os.Exit(0)
}

func errOrNil(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// BenchmarkCompileDefault is the cost of building the default filter, paid
// once per container monitor (and once in the agent for exec).
func BenchmarkCompileDefault(b *testing.B) {
	env := Env{Arch: runtime.GOARCH, Caps: DefaultCaps, Kernel: profiles.KernelVersion{Kernel: 6, Major: 1}}
	for b.Loop() {
		p, err := Policy(profiles.DefaultProfile(), env)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compile(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSyscallCost measures what the default filter adds to a
// syscall, in a child process per b.Loop iteration: the CPU time
// (user+system, so that waiting for a CPU does not count) of 1,000,000
// getppid and 1,000,000 one-byte writes to /dev/null (write is late in the
// filter's alphabetical list), best of 3, before and after installing it.
//
//	go test -run '^$' -bench '^BenchmarkSyscallCost$' -benchtime 1x ./runtime/seccomp
func BenchmarkSyscallCost(b *testing.B) {
	if os.Getenv("BERTH_SECCOMP_CHILD") == "cost" {
		syscallCostChild()
	}
	var sum syscallCost
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkSyscallCost$", "-test.benchtime=1x")
		cmd.Env = append(os.Environ(), "BERTH_SECCOMP_CHILD=cost")
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		// The child's last line: the testing package prints a header first.
		var c syscallCost
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &c); err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		b.Logf("syscall CPU time, %d-instruction filter (installed in %.0f µs): getppid %.0f ns -> %.0f ns (+%.0f), write(1 byte, /dev/null) %.0f ns -> %.0f ns (+%.0f)",
			c.Instructions, c.InstallUS, c.Getppid, c.GetppidFiltered, c.GetppidFiltered-c.Getppid, c.Write, c.WriteFiltered, c.WriteFiltered-c.Write)
		sum.Getppid += c.Getppid
		sum.GetppidFiltered += c.GetppidFiltered
		sum.Write += c.Write
		sum.WriteFiltered += c.WriteFiltered
		sum.InstallUS += c.InstallUS
	}
	n := float64(b.N)
	b.ReportMetric(sum.Getppid/n, "getppid-ns")
	b.ReportMetric(sum.GetppidFiltered/n, "getppid-filtered-ns")
	b.ReportMetric(sum.Write/n, "write-ns")
	b.ReportMetric(sum.WriteFiltered/n, "write-filtered-ns")
	b.ReportMetric(sum.InstallUS/n, "install-us")
	b.ReportMetric(0, "ns/op")
}

// syscallCost is what syscallCostChild measured: CPU ns a syscall without
// and with the filter, and the time installing it took.
type syscallCost struct {
	Instructions             int
	Getppid, GetppidFiltered float64
	Write, WriteFiltered     float64
	InstallUS                float64
}

func syscallCostChild() {
	runtime.LockOSThread()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		panic(err)
	}
	const n = 1000000
	b := []byte{0}
	cpu := func() time.Duration {
		var ru unix.Rusage
		unix.Getrusage(unix.RUSAGE_THREAD, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	measure := func(fn func()) float64 {
		best := time.Duration(1 << 62)
		for range 3 {
			start := cpu()
			for range n {
				fn()
			}
			best = min(best, cpu()-start)
		}
		return float64(best.Nanoseconds()) / n
	}
	getppid := func() { unix.Getppid() }
	write := func() { unix.Write(int(null.Fd()), b) }
	g0, w0 := measure(getppid), measure(write)
	f, err := DefaultFilter()
	var installed time.Duration
	if err == nil && unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == nil {
		start := time.Now()
		err = Install(f)
		installed = time.Since(start)
	}
	if err != nil {
		panic(err)
	}
	g1, w1 := measure(getppid), measure(write)
	json.NewEncoder(os.Stdout).Encode(syscallCost{Instructions: len(f) / 8, Getppid: g0, GetppidFiltered: g1, Write: w0, WriteFiltered: w1,
		InstallUS: float64(installed.Nanoseconds()) / 1000})
	os.Exit(0)
}
