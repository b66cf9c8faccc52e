package berthos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
)

// benchRuns returns how many boots BERTH_BOOT_BENCH asks for; the boot
// measurements only run when it is set (scripts/bench-boot.sh).
func benchRuns(t *testing.T) int {
	t.Helper()
	s := os.Getenv("BERTH_BOOT_BENCH")
	if s == "" {
		t.Skip("boot measurements run with BERTH_BOOT_BENCH=N (scripts/bench-boot.sh)")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		t.Fatalf("BERTH_BOOT_BENCH=%q: want a number of boots", s)
	}
	return n
}

// TestBootBench measures QEMU start -> SSH answering: one first boot (data
// disk formatted, host keys made), then N boots of the same machine, each
// ended with the ACPI power button.
func TestBootBench(t *testing.T) {
	n := benchRuns(t)
	testenv.NeedQEMU(t)
	g := newGuest(t, testenv.ISO(t), "bench")
	var times []time.Duration
	for i := 0; i <= n; i++ {
		d := bootOnce(t, g)
		if i == 0 {
			t.Logf("first boot (formats the data disk, makes host keys): %s", d.Round(100*time.Millisecond))
			continue
		}
		t.Logf("boot %d: %s", i, d.Round(100*time.Millisecond))
		times = append(times, d)
	}
	slices.Sort(times)
	t.Logf("median of %d boots, QEMU start to SSH answering (TCG, -smp 2 -m 512): %s (min %s, max %s); load average %s",
		n, times[len(times)/2].Round(100*time.Millisecond), times[0].Round(100*time.Millisecond),
		times[len(times)-1].Round(100*time.Millisecond), loadAverage())
}

func bootOnce(t *testing.T, g *guest) time.Duration {
	t.Helper()
	v := g.boot(t)
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	defer cancel()
	c, _, err := v.dial(ctx, g.signer)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(v.started)
	c.Close()
	if err := v.qmp("system_powerdown"); err != nil {
		t.Fatal(err)
	}
	if err := v.waitExit(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestKernelToInit measures the floor: the ISO's kernel booted with
// -kernel/-initrd and a tiny initramfs whose init prints the guest uptime
// and powers off at once.
func TestKernelToInit(t *testing.T) {
	n := benchRuns(t)
	testenv.NeedQEMU(t)
	testenv.NeedCommand(t, "xorriso", "cpio")
	iso := testenv.ISO(t)
	busybox := filepath.Join(testenv.RepoRoot(t), "build", "iso-work", "root", "usr", "bin", "busybox")
	if _, err := os.Stat(busybox); err != nil {
		t.Fatalf("%s is missing: run `make iso` in this checkout first", busybox)
	}
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/boot/vmlinuz", kernel).CombinedOutput(); err != nil {
		t.Fatalf("extract the kernel from %s: %v\n%s", iso, err, out)
	}
	initrd := tinyInitramfs(t, dir, busybox)

	uptime := regexp.MustCompile(`init at uptime ([0-9.]+)`)
	var walls, ups []float64
	for i := 0; i < n; i++ {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		out, err := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-smp", "2", "-m", "512",
			"-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
			"-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet").CombinedOutput()
		cancel()
		wall := time.Since(start)
		if err != nil {
			t.Fatalf("qemu: %v\n%s", err, out)
		}
		m := uptime.FindSubmatch(out)
		if m == nil {
			t.Fatalf("the tiny init did not report: %s", out)
		}
		up, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("run %d: init reached at guest uptime %.2fs; QEMU start to exit %s", i+1, up, wall.Round(100*time.Millisecond))
		walls = append(walls, wall.Seconds())
		ups = append(ups, up)
	}
	slices.Sort(walls)
	slices.Sort(ups)
	t.Logf("median of %d: kernel reaches init at guest uptime %.2fs; QEMU start to poweroff %.1fs; load average %s",
		n, ups[len(ups)/2], walls[len(walls)/2], loadAverage())
}

// tinyInitramfs writes an uncompressed newc initramfs with busybox and an init
// that prints the uptime and powers off.
func tinyInitramfs(t *testing.T, dir, busybox string) string {
	t.Helper()
	root := filepath.Join(dir, "root")
	for _, d := range []string{"bin", "proc", "dev"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin", "busybox"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	init := "#!/bin/busybox sh\n/bin/busybox mount -t proc proc /proc\n/bin/busybox mount -t devtmpfs dev /dev\n" +
		"echo \"init at uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime)\" > /dev/ttyS0\n" +
		"/bin/busybox poweroff -f\n"
	if err := os.WriteFile(filepath.Join(root, "init"), []byte(init), 0o755); err != nil {
		t.Fatal(err)
	}
	list := exec.Command("sh", "-c", "find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet")
	list.Dir = root
	var cpio bytes.Buffer
	list.Stdout = &cpio
	if err := list.Run(); err != nil {
		t.Fatalf("cpio: %v", err)
	}
	out := filepath.Join(dir, "initrd.cpio")
	if err := os.WriteFile(out, cpio.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}
