package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
)

// released runs dist/'s linux/amd64 berth, copied alone into an empty
// folder (no checkout around it), with BERTH_HOME=home and env.
type released struct {
	bin, dir, home string
	env            []string
}

func (r released) run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, args...)
	cmd.Dir = r.dir
	cmd.Env = append(append(os.Environ(), "BERTH_HOME="+r.home, "BERTH_ISO=", "BERTH_ISO_URL=", "BERTH_QEMU_ISO="), r.env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

func (r released) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := r.run(t, args...)
	if err != nil {
		t.Fatalf("berth %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// serve serves dir on 127.0.0.1 as a release location and returns its URL.
func serve(t *testing.T, dir string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir))}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReleasedBinary takes `make release`'s linux/amd64 berth into an
// empty folder with an empty BERTH_HOME and no checkout around it:
//   - it creates an amd64 machine from the ISO it carries;
//   - with dist/ served on 127.0.0.1 as the release location, it creates
//     an arm64 machine from the downloaded, checksum-verified arm64 ISO
//     (emulated with TCG here: that one boot also checks SSH, the arm64
//     agent, UEFI, a 9p share, cgroup2, and the arm64 variant of a
//     multi-platform image pulled and run, and --platform choosing another);
//   - a corrupted download is refused and not kept.
func TestReleasedBinary(t *testing.T) {
	testenv.NeedQEMU(t)
	testenv.NeedQEMUARM64(t)
	testenv.NeedCommand(t, "docker-registry")
	dist := filepath.Join(testenv.RepoRoot(t), "dist")
	if _, err := os.Stat(filepath.Join(dist, "berth-linux-amd64")); err != nil {
		testenv.Skip(t, "no dist/berth-linux-amd64 (run `make release`)")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "berth")
	b, err := os.ReadFile(filepath.Join(dist, "berth-linux-amd64"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	r := released{bin: bin, dir: dir, home: home}
	cache := filepath.Join(home, "cache")

	// A corrupted arm64 ISO at the release location: refused, not kept,
	// no machine left.
	bad := t.TempDir()
	iso, err := os.ReadFile(filepath.Join(dist, "berth-os-arm64.iso"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(dist, "berth-os-arm64.iso.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	damaged := bytes.Clone(iso)
	damaged[len(damaged)/2] ^= 0xff
	if err := os.WriteFile(filepath.Join(bad, "berth-os-arm64.iso"), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "berth-os-arm64.iso.sha256"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	r.env = []string{"BERTH_RELEASE_URL=" + serve(t, bad)}
	_, errOut, err := r.run(t, "create", "-d", "qemu", "--arch", "arm64", "--qemu-accel", "tcg", "--no-share", "broken")
	if err == nil || !strings.Contains(errOut, "checksum mismatch") {
		t.Errorf("create from a corrupted download: err %v, want a checksum mismatch:\n%s", err, errOut)
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if e.Name() != "downloads.json" {
			t.Errorf("the corrupted download left %s in the cache", e.Name())
		}
	}
	if out := r.must(t, "ls", "-q"); strings.TrimSpace(out) != "" {
		t.Errorf("a failed create left machines: %q", out)
	}

	// amd64: the ISO berth carries.
	killOnCleanup(t, home, "x86")
	r.env = []string{"BERTH_RELEASE_URL=http://127.0.0.1:1/nothing-here"} // no download may happen
	start := time.Now()
	r.must(t, "create", "-d", "qemu", "--qemu-accel", "tcg", "--qemu-cpus", "1", "--qemu-memory", "768", "--qemu-disk-size", "1000", "--no-share", "x86")
	t.Logf("create of the amd64 machine from the embedded ISO (TCG): %.1fs", time.Since(start).Seconds())
	if got := strings.TrimSpace(r.must(t, "ssh", "x86", "--", "uname", "-m")); got != "x86_64" {
		t.Errorf("uname -m in the amd64 machine = %q", got)
	}
	if got := r.must(t, "inspect", "--format", "{{.Driver.ISOVersion}}", "x86"); !strings.HasPrefix(got, "berth-os-v") || strings.Contains(got, "arm64") {
		t.Errorf("the amd64 machine boots %q", got)
	}
	r.must(t, "rm", "-y", "x86")

	// arm64: downloaded from the release location.
	_, guestReg := helloRegistry(t)
	share := t.TempDir()
	if err := os.WriteFile(filepath.Join(share, "from-host"), []byte("shared\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	killOnCleanup(t, home, "arm")
	r.env = []string{"BERTH_RELEASE_URL=" + serve(t, dist), "DOCKER_CONFIG=" + t.TempDir()}
	start = time.Now()
	_, errOut, err = r.run(t, "create", "-d", "qemu", "--arch", "arm64", "--qemu-accel", "tcg",
		"--qemu-cpus", "2", "--qemu-memory", "1024", "--qemu-disk-size", "1000",
		"--insecure-registry", guestReg, "--share", share+":/mnt/share", "arm")
	if err != nil {
		t.Fatalf("create --arch arm64 from the release location: %v\n%s", err, errOut)
	}
	t.Logf("create of the arm64 machine from the downloaded ISO (TCG, download included): %.1fs\n%s", time.Since(start).Seconds(), errOut)
	if !strings.Contains(errOut, "an arm64 machine on this amd64 computer is emulated") {
		t.Errorf("create of an emulated arm64 machine did not say it is slow:\n%s", errOut)
	}
	if got := r.must(t, "inspect", "--format", "{{.Driver.Arch}} {{.Driver.ISOVersion}}", "arm"); !strings.HasPrefix(got, "arm64 berth-os-v") || !strings.HasSuffix(got, "-arm64\n") {
		t.Errorf("inspect: arch and ISO = %q, want arm64 and an arm64 berth-os", got)
	}
	check := map[string]string{
		"uname -m":                 "aarch64",
		"cat /mnt/share/from-host": "shared",
		"cat /sys/fs/cgroup/cgroup.subtree_control":     "cpuset cpu io memory pids",
		"ls /sys/firmware/efi/ >/dev/null && echo uefi": "uefi",
		"pidof berth-agent >/dev/null && echo agent":    "agent",
	}
	for cmd, want := range check {
		if got := strings.TrimSpace(r.must(t, "ssh", "arm", "--", "sh", "-c", cmd)); got != want {
			t.Errorf("in the arm64 machine, %s = %q, want %q", cmd, got, want)
		}
	}
	r.must(t, "pull", "-m", "arm", guestReg+"/hello")
	if out := r.must(t, "run", "-m", "arm", "--rm", guestReg+"/hello"); out != testimages.Greeting {
		t.Errorf("run hello on arm64 printed %q, want %q", out, testimages.Greeting)
	}
	// Another platform: an arm64 machine cannot run amd64 (no binfmt
	// emulation in berth-os), so the pull is refused, saying what it runs.
	if out, errOut, err := r.run(t, "pull", "-m", "arm", "--platform", "linux/amd64", guestReg+"/hello"); err == nil || !strings.Contains(out+errOut, "runs linux/arm64") {
		t.Errorf("pull --platform linux/amd64 on an arm64 machine: %v\n%s%s", err, out, errOut)
	}
}
