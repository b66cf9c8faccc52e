package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/runtime/server"
)

// TestImageCommandsOnQEMU runs the image commands through the CLI against
// a berth-os machine in QEMU: pull from a registry on this host (named
// insecure on the machine), load, images, tag, save, rmi; then the
// machine powered off hard (powerLoss).
func TestImageCommandsOnQEMU(t *testing.T) {
	testenv.NeedCommand(t, "docker-registry")
	root := qemuMachine(t, "img")

	// The machine reaches the registry over plain HTTP: refused until it
	// is named insecure for the machine (at create, or later with
	// provision).
	reg, guestReg := helloRegistry(t)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if r := berth(t, root, "", "pull", "-m", "img", guestReg+"/hello"); r.code == 0 {
		t.Fatalf("pull from the plain-HTTP registry %s not named insecure succeeded:\n%s", guestReg, r.stdout)
	}
	mustBerth(t, root, "provision", "--insecure-registry", guestReg, "img")
	if got := mustBerth(t, root, "ssh", "img", "--", "cat", server.DefaultStateDir+"/"+server.InsecureRegistriesFile); strings.TrimSpace(got) != guestReg {
		t.Errorf("the machine's insecure registries are %q, want %q", got, guestReg)
	}

	out := mustBerth(t, root, "pull", "-m", "img", guestReg+"/hello")
	if !strings.Contains(out, ": Pull complete\n") || !strings.Contains(out, "Status: Downloaded newer image for "+guestReg+"/hello:latest") {
		t.Errorf("pull printed:\n%s", out)
	}

	if out := loadBusybox(t, root, "img"); !strings.Contains(out, "Loaded image: busybox:latest") {
		t.Errorf("load printed:\n%s", out)
	}
	mustBerth(t, root, "tag", "-m", "img", "busybox", "mybox:1")
	out = mustBerth(t, root, "images", "-m", "img", "--format", "{{.Repository}}:{{.Tag}}")
	for _, want := range []string{guestReg + "/hello:latest", "busybox:latest", "mybox:1"} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("images lacks %s:\n%s", want, out)
		}
	}
	saved := filepath.Join(t.TempDir(), "saved.tar")
	mustBerth(t, root, "save", "-m", "img", "-o", saved, "mybox:1")
	if fi, err := os.Stat(saved); err != nil || fi.Size() < 1<<20 {
		t.Errorf("save wrote %v, %v; want the busybox tarball", fi, err)
	}
	out = mustBerth(t, root, "rmi", "-m", "img", "busybox", "mybox:1")
	if !strings.Contains(out, "Untagged: mybox:1") || !strings.Contains(out, "Deleted: sha256:") {
		t.Errorf("rmi printed:\n%s", out)
	}
	if out := mustBerth(t, root, "images", "-m", "img", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("images -q after rmi = %q, want only hello", out)
	}
	// Last, as it stops the machine: a hard power-off mid-write and
	// mid-pull.
	powerLoss(t, root, "img", reg.Host, guestReg)
}
