//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
)

// platformIndex is a two-platform busybox, like busybox on Docker Hub:
// linux/amd64 and linux/386, each with /platform naming itself.
func platformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	bb386, err := testimages.BusyboxI386()
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.DockerManifestList)
	for arch, img := range map[string]v1.Image{"amd64": bb, "386": bb386} {
		img, err := testimages.WithFile(img, "platform", []byte(arch+"\n"))
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx
}

// TestQEMUPlatform pulls and runs images of several platforms on an amd64
// berth-os machine: the machine's own by default, linux/386 with
// --platform (run pulls it when the machine holds the amd64 one), and
// a clear refusal for linux/arm64, which the machine cannot run: by pull,
// by run --platform, and for an arm64 image loaded from a tarball.
func TestQEMUPlatform(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the platforms checked are those of an amd64 machine")
	}
	testenv.NeedCommand(t, "docker-registry")
	if _, err := testimages.BusyboxI386Path(); err != nil {
		testenv.Skip(t, err.Error())
	}
	reg := testregistry.Start(t, testregistry.Options{})
	ctx := context.Background()
	hello, err := testimages.HelloIndex()
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.PushIndex(ctx, reg.Host+"/hello:latest", hello, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := testimages.PushIndex(ctx, reg.Host+"/multi:latest", platformIndex(t), "", ""); err != nil {
		t.Fatal(err)
	}
	guestReg := "10.0.2.2:" + reg.Host[strings.LastIndex(reg.Host, ":")+1:]
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	root := qemuMachine(t, "plat", "--insecure-registry", guestReg)
	multi := guestReg + "/multi"

	// The machine's platform by default.
	r := berth(t, root, "", "run", "-m", "plat", "--rm", multi, "cat", "/platform")
	if r.code != 0 || r.stdout != "amd64\n" || !strings.Contains(r.stderr, "Unable to find image") {
		t.Errorf("run %s: exit %d, printed %q\n%s", multi, r.code, r.stdout, r.stderr)
	}
	if got := mustBerth(t, root, "run", "-m", "plat", "--rm", guestReg+"/hello"); got != testimages.Greeting {
		t.Errorf("run hello printed %q, want the amd64 hello's greeting", got)
	}
	// Another platform the machine runs: the local amd64 image does not
	// match, so run pulls the 386 one.
	r = berth(t, root, "", "run", "-m", "plat", "--rm", "--platform", "linux/386", multi, "cat", "/platform")
	if r.code != 0 || r.stdout != "386\n" || !strings.Contains(r.stderr, "Unable to find image") {
		t.Errorf("run --platform linux/386 %s: exit %d, printed %q\n%s", multi, r.code, r.stdout, r.stderr)
	}
	if got := mustBerth(t, root, "run", "-m", "plat", "--rm", "--platform", "linux/386", multi, "cat", "/platform"); got != "386\n" {
		t.Errorf("a second run --platform linux/386 printed %q", got)
	}
	if got := mustBerth(t, root, "pull", "-m", "plat", "--platform", "linux/amd64", "-q", multi); got != multi+"\n" {
		t.Errorf("pull --platform linux/amd64 printed %q", got)
	}
	if got := mustBerth(t, root, "run", "-m", "plat", "--rm", multi, "cat", "/platform"); got != "amd64\n" {
		t.Errorf("run after pull --platform linux/amd64 printed %q", got)
	}

	// A platform the machine cannot run.
	const refusal = "linux/arm64/v8: this machine runs linux/amd64, linux/386 only; use a machine of that architecture (berth create --arch arm64)"
	r = berth(t, root, "", "pull", "-m", "plat", "--platform", "linux/arm64", guestReg+"/hello")
	if r.code == 0 || !strings.Contains(r.stderr, refusal) {
		t.Errorf("pull --platform linux/arm64: exit %d\n%s", r.code, r.stderr)
	}
	r = berth(t, root, "", "run", "-m", "plat", "--rm", "--platform", "linux/arm64", guestReg+"/hello")
	if r.code != 125 || !strings.Contains(r.stderr, refusal) || r.stdout != "" {
		t.Errorf("run --platform linux/arm64: exit %d, printed %q\n%s", r.code, r.stdout, r.stderr)
	}
	armHello, err := testimages.Hello("arm64")
	if err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(t.TempDir(), "hello-arm.tar")
	f, err := os.Create(tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := testimages.WriteDockerArchive(f, map[string]v1.Image{"hello-arm:latest": armHello}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	mustBerth(t, root, "load", "-m", "plat", "-i", tarball)
	r = berth(t, root, "", "run", "-m", "plat", "--rm", "hello-arm")
	if r.code != 125 || !strings.Contains(r.stderr, "image hello-arm: a platform this machine cannot run: "+refusal) ||
		!strings.Contains(r.stderr, "berth pull --platform linux/amd64 hello-arm") {
		t.Errorf("run of an arm64 image: exit %d\n%s", r.code, r.stderr)
	}
	mustBerth(t, root, "rm", "-y", "plat")
}
