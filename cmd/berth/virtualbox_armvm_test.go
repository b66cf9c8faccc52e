package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
)

// TestVirtualBoxARM64 creates an arm64 machine with the VirtualBox driver
// (create --arch arm64: a VM of VirtualBox's arm platform) through the
// VBoxManage double, which boots it in qemu-system-aarch64 under TCG:
// berth-os for arm64 boots by UEFI, SSH answers, the arm64 agent built
// from this tree is provisioned and runs, and the arm64 variant of the
// multi-platform hello image is pulled from a registry on this host and
// run. The share is mounted over virtio-9p: Debian's arm64 kernel has no
// VirtualBox guest drivers, so berth-os falls back to 9p, which the double
// offers and a real VirtualBox does not (see the README).
//
// With BERTH_VBOX_REAL=1 it runs against the VirtualBox of an arm64 host.
func TestVirtualBoxARM64(t *testing.T) {
	if os.Getenv("BERTH_VBOX_REAL") == "1" && runtime.GOARCH != "arm64" {
		t.Skip("VirtualBox runs arm64 VMs only on arm64 hosts")
	}
	testenv.NeedQEMUARM64(t)
	testenv.NeedCommand(t, "docker-registry")
	dbl := vboxEnv(t)
	iso := testenv.ISOArch(t, "arm64")
	treeAgent(t)
	root := t.TempDir()
	t.Cleanup(func() { berth(t, root, "", "rm", "-y", "-f", "arm") })

	_, guestReg := helloRegistry(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	share := t.TempDir()
	if err := os.WriteFile(filepath.Join(share, "from-host"), []byte("shared\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	r := berth(t, root, "", "create", "-d", "virtualbox", "--arch", "arm64", "--virtualbox-iso", iso,
		"--virtualbox-cpu-count", "2", "--virtualbox-memory", "1024", "--virtualbox-disk-size", "1000",
		"--insecure-registry", guestReg, "--share", share+":/mnt/share", "arm")
	if r.code != 0 {
		t.Fatalf("berth create --arch arm64 -d virtualbox: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("create of the arm64 VirtualBox machine to ready (double, TCG): %.1fs\n%s", time.Since(start).Seconds(), r.stderr)
	if runtime.GOARCH != "arm64" && !strings.Contains(r.stderr, "VirtualBox runs arm64 VMs only on arm64 computers") {
		t.Errorf("create of an arm64 VirtualBox VM on this %s computer did not say VirtualBox cannot run it:\n%s", runtime.GOARCH, r.stderr)
	}

	if got := mustBerth(t, root, "inspect", "--format", "{{.Driver.arch}}", "arm"); strings.TrimSpace(got) != "arm64" {
		t.Errorf("inspect: the machine's arch is %q, want arm64", got)
	}
	if dbl != nil {
		var created, configured bool
		for _, c := range dbl.Calls() {
			line := strings.Join(c, " ")
			switch {
			case strings.HasPrefix(line, "createvm ") && strings.Contains(line, " --platform-architecture arm "):
				created = true
			case strings.HasPrefix(line, "modifyvm arm --firmware efi --chipset armv8virtual "):
				configured = true
			}
		}
		if !created || !configured {
			t.Errorf("VBoxManage calls lack createvm --platform-architecture arm (%v) or the arm modifyvm (%v):\n%v", created, configured, dbl.Calls())
		}
		if b, err := os.ReadFile(filepath.Join(dbl.Home, "crash.log")); err == nil {
			t.Errorf("VBoxManage crashed on the driver's command lines:\n%s", b)
		}
	}
	check := map[string]string{
		"uname -m": "aarch64",
		"ls /sys/firmware/efi/ >/dev/null && echo uefi": "uefi",
		"pidof berth-agent >/dev/null && echo agent":    "agent",
		"cat /mnt/share/from-host":                      "shared",
	}
	for cmd, want := range check {
		if got := strings.TrimSpace(mustBerth(t, root, "ssh", "arm", "--", "sh", "-c", cmd)); got != want {
			t.Errorf("in the arm64 machine, %s = %q, want %q", cmd, got, want)
		}
	}
	if dbl != nil {
		if log := mustBerth(t, root, "ssh", "arm", "--", "cat", "/var/log/boot.log"); !strings.Contains(log, "no VirtualBox guest device: mounting share berth0 over virtio-9p") {
			t.Errorf("the share was not mounted by the 9p fallback; boot.log:\n%s", log)
		}
	}
	mustBerth(t, root, "pull", "-m", "arm", guestReg+"/hello")
	if out := mustBerth(t, root, "run", "-m", "arm", "--rm", guestReg+"/hello"); out != testimages.Greeting {
		t.Errorf("run hello on the arm64 VirtualBox machine printed %q, want %q", out, testimages.Greeting)
	}

	// stop and start: the VM boots again from its kept UEFI variable
	// store, with its data disk.
	mustBerth(t, root, "ssh", "arm", "--", "sh", "-c", "echo kept > /var/lib/berth/arm-e2e && sync")
	stop := time.Now()
	mustBerth(t, root, "stop", "arm")
	t.Logf("graceful stop: %.1fs", time.Since(stop).Seconds())
	if got := strings.TrimSpace(mustBerth(t, root, "status", "arm")); got != "Stopped" {
		t.Errorf("status after stop = %q", got)
	}
	again := time.Now()
	mustBerth(t, root, "start", "arm")
	if got := inMachine(t, root, "arm", "cat /var/lib/berth/arm-e2e"); got != "kept\n" {
		t.Errorf("after stop and start the data disk holds %q, want %q", got, "kept\n")
	}
	t.Logf("start to SSH of the stopped arm64 machine: %.1fs", time.Since(again).Seconds())
	mustBerth(t, root, "rm", "-y", "arm")
}
