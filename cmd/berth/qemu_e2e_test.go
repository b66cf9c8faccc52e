package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testwait"
)

// qemuCreateArgs creates a small TCG machine booting iso.
func qemuCreateArgs(iso, name string) []string {
	return []string{"create", "-d", "qemu", "--qemu-iso", iso, "--qemu-accel", "tcg",
		"--qemu-cpus", "1", "--qemu-memory", "512", "--qemu-disk-size", "1000", name}
}

func wantStatus(t *testing.T, root, name, want string) {
	t.Helper()
	if got := strings.TrimSpace(mustBerth(t, root, "status", name)); got != want {
		t.Fatalf("status %s = %q, want %q", name, got, want)
	}
}

func sshPortOf(t *testing.T, root, name string) int {
	t.Helper()
	p, err := strconv.Atoi(strings.TrimSpace(mustBerth(t, root, "inspect", "-f", "{{.Driver.SSHPort}}", name)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestQEMUEndToEnd drives one berth-os machine through the commands and
// the faults of its life, through the CLI.
func TestQEMUEndToEnd(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	root := t.TempDir()
	const name = "e2e"
	killOnCleanup(t, root, name)
	// The machine's part of create: its key and SSH (the agent's part is
	// tested with the agent).
	withSteps(t, machine.Steps{MakeKey: wiredSteps.MakeKey, WaitSSH: wiredSteps.WaitSSH})

	r := berth(t, root, "", qemuCreateArgs(iso, name)...)
	if r.code != 0 {
		t.Fatalf("create: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"(e2e)", "s starting the VM...", "s waiting for SSH..."} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("create's steps %q lack %q", r.stderr, want)
		}
	}
	for _, step := range []string{"creating the VM", "starting the VM", "waiting for SSH"} {
		if !regexp.MustCompile(`\(e2e\) +[0-9.]+s ` + step + `: [0-9]+\.[0-9]{2}s\n`).MatchString(r.stderr) {
			t.Errorf("create's steps %q lack the duration of %q", r.stderr, step)
		}
	}
	// QEMU boots the kernel and initramfs of the ISO, taken out into the
	// cache, and berth-os loads only the modules QEMU's hardware needs.
	checkKernelBoot(t, root, name)
	if !strings.Contains(r.stdout, "Machine e2e is ready in ") {
		t.Errorf("create printed %q", r.stdout)
	}
	t.Logf("create:\n%s%s", r.stderr, r.stdout)
	wantStatus(t, root, name, "Running")
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.DriverName}} {{.State}}"); got != "e2e qemu Running\n" {
		t.Errorf("ls = %q", got)
	}
	if got := mustBerth(t, root, "ip", name); got != "127.0.0.1\n" {
		t.Errorf("ip = %q", got)
	}
	if got := mustBerth(t, root, "ssh", name, "--", "cat", "/etc/os-release"); !strings.Contains(got, "ID=berth-os") {
		t.Errorf("os-release = %q", got)
	}
	// Like OpenSSH, berth ssh joins its arguments into one shell command line.
	mustBerth(t, root, "ssh", name, "--", "echo kept > /var/lib/berth/marker && sync")
	marker := func() {
		t.Helper()
		if got := mustBerth(t, root, "ssh", name, "--", "cat", "/var/lib/berth/marker"); got != "kept\n" {
			t.Fatalf("marker after a restart = %q, want kept", got)
		}
	}

	// Stop is graceful: the guest powers off well before the kill timeout.
	start := time.Now()
	mustBerth(t, root, "stop", name)
	if el := time.Since(start); el > 60*time.Second {
		t.Errorf("stop took %s: the guest did not power off on the power button", el)
	}
	t.Logf("stop took %s", time.Since(start).Round(time.Millisecond))
	wantStatus(t, root, name, "Stopped")

	// Its SSH port taken meanwhile: start picks another one.
	old := sshPortOf(t, root, name)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", old))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// ... and it is a machine made before berth booted kernels directly:
	// its config has neither the ISO's SHA-256 nor Boot, and the cache no
	// kernel.
	dir := filepath.Join(root, "machines", name)
	makeOld(t, dir)
	if err := os.RemoveAll(filepath.Join(root, "cache", "boot")); err != nil {
		t.Fatal(err)
	}
	mustBerth(t, root, "start", name)
	wantStatus(t, root, name, "Running")
	checkKernelBoot(t, root, name)
	if got := mustBerth(t, root, "inspect", "-f", "{{.Driver.ISOSHA256}}", name); len(strings.TrimSpace(got)) != 64 {
		t.Errorf("after the start of a machine made before, its ISOSHA256 is %q, want recorded", got)
	}
	if now := sshPortOf(t, root, name); now == old {
		t.Errorf("start kept port %d that another program holds", old)
	}
	marker()

	// Killed from outside: Stopped, and start brings it back with its data.
	pid := qemuPID(root, name)
	killProcess(pid)
	waitDead(t, pid)
	wantStatus(t, root, name, "Stopped")
	// The kernel in the cache damaged meanwhile: taken out again. And
	// start --json reports its steps as events.
	kernels, _ := filepath.Glob(filepath.Join(root, "cache", "boot", "*", "vmlinuz"))
	if len(kernels) != 1 {
		t.Fatalf("cached kernels %q, want one", kernels)
	}
	if err := os.WriteFile(kernels[0], []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = berth(t, root, "", "start", "--json", name)
	if r.code != 0 {
		t.Fatalf("start --json: exit %d\n%s", r.code, r.stderr)
	}
	checkStepEvents(t, r.stdout, name, "starting the VM", "waiting for SSH")
	marker()

	mustBerth(t, root, "restart", name)
	marker()
	mustBerth(t, root, "kill", name)
	wantStatus(t, root, name, "Stopped")

	// A damaged disk and a missing ISO: clear errors, the folder intact.
	disk := filepath.Join(dir, "disk.qcow2")
	if err := os.WriteFile(disk, []byte("not a qcow2 image"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = berth(t, root, "", "start", name)
	if r.code == 0 || !strings.Contains(r.stderr, "data disk") || !strings.Contains(r.stderr, "damaged") {
		t.Errorf("start with a damaged disk: exit %d, %q", r.code, r.stderr)
	}
	if err := os.Remove(filepath.Join(dir, "boot.iso")); err != nil {
		t.Fatal(err)
	}
	r = berth(t, root, "", "start", name)
	if r.code == 0 || !strings.Contains(r.stderr, "boot ISO") || !strings.Contains(r.stderr, "is missing") {
		t.Errorf("start without its ISO: exit %d, %q", r.code, r.stderr)
	}
	for _, f := range []string{"config.json", "disk.qcow2", "seed.iso"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("a failed start lost %s: %v", f, err)
		}
	}
	wantStatus(t, root, name, "Stopped")
	mustBerth(t, root, "rm", "-y", name)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("rm left %s: %v", dir, err)
	}
}

// checkKernelBoot checks that machine name's QEMU (a TCG one) boots the
// kernel and initramfs from the store's cache (-kernel) through qboot,
// that berth-os got the module list and acpi=noirq on its command line
// and keeps time with the TSC.
func checkKernelBoot(t *testing.T, root, name string) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", qemuPID(root, name)))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(string(b), "\x00")
	i := slices.Index(args, "-kernel")
	if i < 0 || !strings.HasPrefix(args[i+1], filepath.Join(root, "cache", "boot")+string(filepath.Separator)) {
		t.Errorf("QEMU runs %q, want -kernel from %s", args, filepath.Join(root, "cache", "boot"))
	}
	// The kernel uncompressed (booted by its PVH entry point) and the
	// initramfs decompressed, as they boot fastest under emulation.
	if i >= 0 && filepath.Base(args[i+1]) != "vmlinux" {
		t.Errorf("QEMU boots the kernel %s, want the vmlinux taken out of the ISO's bzImage", args[i+1])
	}
	if j := slices.Index(args, "-initrd"); j < 0 || filepath.Base(args[j+1]) != "initrd.cpio" {
		t.Errorf("QEMU runs %q, want -initrd initrd.cpio (decompressed)", args)
	}
	if got := mustBerth(t, root, "ssh", name, "--", "cat", "/proc/cmdline"); !strings.Contains(got, "berth.modules=virtio_pci,") || !strings.Contains(got, " acpi=noirq") {
		t.Errorf("the guest's /proc/cmdline = %q, want berth.modules= and acpi=noirq", got)
	}
	// Started by qboot, with the PCI interrupts routed by its MP table:
	// the guest's disks and NIC work (it answered SSH), and so must its
	// ACPI power button (the tests' stops).
	if j := slices.Index(args, "-bios"); j < 0 || args[j+1] != "qboot.rom" {
		t.Errorf("QEMU runs %q, want -bios qboot.rom", args)
	}
	if got := mustBerth(t, root, "ssh", name, "--", "dmesg"); !strings.Contains(got, "MPTABLE: OEM ID: QBOOT") {
		t.Errorf("the guest's kernel log lacks qboot's MP table:\n%s", got)
	}
	// Under TCG the guest keeps time with the TSC, which the vDSO reads
	// without a system call, not with the emulated HPET.
	if got := strings.TrimSpace(mustBerth(t, root, "ssh", name, "--", "cat", "/sys/devices/system/clocksource/clocksource0/current_clocksource")); got != "tsc" {
		t.Errorf("the guest's clock source is %q, want tsc", got)
	}
}

// makeOld removes from a QEMU machine's config.json what berth did not
// record before it booted kernels directly.
func makeOld(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	drv, ok := cfg["Driver"].(map[string]any)
	if !ok || drv["ISOSHA256"] == nil {
		t.Fatalf("config.json %s has no Driver.ISOSHA256", b)
	}
	delete(drv, "ISOSHA256")
	delete(drv, "Boot")
	if b, err = json.Marshal(cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// checkStepEvents checks the JSON events of create --json or start
// --json: each step begins and then ends with its duration, and the
// machine is ready last.
func checkStepEvents(t *testing.T, out, name string, steps ...string) {
	t.Helper()
	var events []stepEvent
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e stepEvent
		if err := json.Unmarshal([]byte(line), &e); err != nil || e.Machine != name {
			t.Fatalf("--json line %q: %v, want an event of %s", line, err, name)
		}
		events = append(events, e)
	}
	for _, step := range steps {
		b := slices.IndexFunc(events, func(e stepEvent) bool { return e.Event == "begin" && e.Step == step })
		e := slices.IndexFunc(events, func(e stepEvent) bool { return e.Event == "end" && e.Step == step })
		if b < 0 || e < b || events[e].TookMS == nil || events[e].AtMS < events[b].AtMS {
			t.Errorf("--json events %s: want %q to begin, then end with took_ms", out, step)
		}
	}
	if last := events[len(events)-1]; last.Event != "ready" {
		t.Errorf("--json events end with %+v, want ready", last)
	}
}

// TestQEMUCreateKilled kills the berth process in the middle of create,
// once QEMU runs: rm then leaves no QEMU process behind.
func TestQEMUCreateKilled(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	root := t.TempDir()
	const name = "killed"
	killOnCleanup(t, root, name)
	cmd, done, pid := createUntilQEMURuns(t, root, iso, name, nil)
	cmd.Process.Kill()
	<-done
	if !alive(pid) {
		t.Fatalf("qemu %d died with the CLI: it must outlive berth", pid)
	}
	if got := mustBerth(t, root, "ls", "--format", "{{.Name}} {{.Error}}"); !strings.HasPrefix(got, name+" create did not finish") {
		t.Errorf("ls after a killed create = %q, want the machine with its error", got)
	}
	mustBerth(t, root, "rm", "-y", name)
	waitDead(t, pid)
}

// createUntilQEMURuns starts `berth create` of a QEMU machine in a child
// (this test binary as berth, see TestMain; create waits for SSH as the
// real one does) and returns once the machine's QEMU runs: the child, a
// channel that gets its end, and QEMU's pid.
func createUntilQEMURuns(t *testing.T, root, iso, name string, stderr io.Writer) (*exec.Cmd, <-chan error, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-s", root}, qemuCreateArgs(iso, name)...)...)
	cmd.Env = append(os.Environ(), "BERTH_TEST_AS_MAIN=1", "BERTH_TEST_WAIT_SSH=1")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var pid int
	err := testwait.Poll(context.Background(), 5*time.Minute, func() error {
		select {
		case err := <-done:
			t.Fatalf("create ended before QEMU ran: %v", err)
		default:
		}
		if pid = qemuPID(root, name); pid == 0 || !alive(pid) {
			return errors.New("no QEMU runs")
		}
		return nil
	})
	if err != nil {
		cmd.Process.Kill()
		t.Fatal("QEMU did not run within 5 minutes of create")
	}
	return cmd, done, pid
}

// TestQEMUCreateInterrupted sends SIGINT (Ctrl-C) to create once QEMU
// runs: create exits 130 and leaves neither the machine nor QEMU.
func TestQEMUCreateInterrupted(t *testing.T) {
	testenv.NeedQEMU(t)
	iso := testenv.ISO(t)
	root := t.TempDir()
	const name = "interrupted"
	killOnCleanup(t, root, name)
	var stderr syncBuffer
	cmd, done, pid := createUntilQEMURuns(t, root, iso, name, &stderr)
	cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("create did not end within 2 minutes of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("create after SIGINT exited %d, want %d; it printed:\n%s", code, exitInterrupted, stderr.String())
	}
	waitDead(t, pid)
	if _, err := os.Stat(filepath.Join(root, "machines", name)); !os.IsNotExist(err) {
		t.Errorf("an interrupted create left its machine folder: %v", err)
	}
}
