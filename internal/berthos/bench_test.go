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

// BenchmarkBoot measures QEMU start -> SSH answering: one first boot
// (data disk formatted, host keys made, logged), then a boot of the same
// machine per b.Loop iteration, each ended with the ACPI power button. It
// reports the median in seconds (scripts/bench-boot.sh).
//
//	go test -run '^$' -bench '^BenchmarkBoot$' -benchtime 5x ./internal/berthos
func BenchmarkBoot(b *testing.B) {
	testenv.NeedQEMU(b)
	g := newGuest(b, testenv.ISO(b), "bench")
	b.Logf("first boot (formats the data disk, makes host keys): %s", bootOnce(b, g).Round(100*time.Millisecond))
	var times []time.Duration
	for b.Loop() {
		d := bootOnce(b, g)
		b.Logf("boot %d: %s", len(times)+1, d.Round(100*time.Millisecond))
		times = append(times, d)
	}
	slices.Sort(times)
	b.Logf("median of %d boots, QEMU start to SSH answering (TCG, -smp 2 -m 512): %s (min %s, max %s); load average %s",
		len(times), times[len(times)/2].Round(100*time.Millisecond), times[0].Round(100*time.Millisecond),
		times[len(times)-1].Round(100*time.Millisecond), loadAverage())
	b.ReportMetric(times[len(times)/2].Seconds(), "boot-s")
	b.ReportMetric(0, "ns/op")
}

func bootOnce(t testing.TB, g *guest) time.Duration {
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

// BenchmarkKernelToInit measures the floor: the ISO's kernel booted with
// -kernel/-initrd and a tiny initramfs whose init prints the guest uptime
// and powers off at once, a boot per b.Loop iteration. It reports the
// medians in seconds of the guest uptime at init and of QEMU's start to
// its exit (scripts/bench-boot.sh).
//
//	go test -run '^$' -bench '^BenchmarkKernelToInit$' -benchtime 5x ./internal/berthos
func BenchmarkKernelToInit(b *testing.B) {
	testenv.NeedQEMU(b)
	testenv.NeedCommand(b, "xorriso", "cpio")
	iso := testenv.ISO(b)
	busybox := filepath.Join(testenv.RepoRoot(b), "build", "iso-work", "root", "usr", "bin", "busybox")
	if _, err := os.Stat(busybox); err != nil {
		b.Fatalf("%s is missing: run `make iso` in this checkout first", busybox)
	}
	dir := b.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	if out, err := exec.Command("xorriso", "-osirrox", "on", "-indev", iso, "-extract", "/boot/vmlinuz", kernel).CombinedOutput(); err != nil {
		b.Fatalf("extract the kernel from %s: %v\n%s", iso, err, out)
	}
	initrd := tinyInitramfs(b, dir, busybox)

	uptime := regexp.MustCompile(`init at uptime ([0-9.]+)`)
	var walls, ups []float64
	for b.Loop() {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		out, err := exec.CommandContext(ctx, "qemu-system-x86_64", "-accel", "tcg", "-smp", "2", "-m", "512",
			"-display", "none", "-no-reboot", "-serial", "stdio", "-monitor", "none",
			"-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0 quiet").CombinedOutput()
		cancel()
		wall := time.Since(start)
		if err != nil {
			b.Fatalf("qemu: %v\n%s", err, out)
		}
		m := uptime.FindSubmatch(out)
		if m == nil {
			b.Fatalf("the tiny init did not report: %s", out)
		}
		up, _ := strconv.ParseFloat(string(m[1]), 64)
		b.Logf("run %d: init reached at guest uptime %.2fs; QEMU start to exit %s", len(walls)+1, up, wall.Round(100*time.Millisecond))
		walls = append(walls, wall.Seconds())
		ups = append(ups, up)
	}
	slices.Sort(walls)
	slices.Sort(ups)
	b.Logf("median of %d: kernel reaches init at guest uptime %.2fs; QEMU start to poweroff %.1fs; load average %s",
		len(walls), ups[len(ups)/2], walls[len(walls)/2], loadAverage())
	b.ReportMetric(ups[len(ups)/2], "init-uptime-s")
	b.ReportMetric(walls[len(walls)/2], "qemu-s")
	b.ReportMetric(0, "ns/op")
}

// tinyInitramfs writes an uncompressed newc initramfs with busybox and an init
// that prints the uptime and powers off.
func tinyInitramfs(t testing.TB, dir, busybox string) string {
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
