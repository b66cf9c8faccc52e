//go:build !windows

package image

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testenv"
	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// needDocker skips unless the machine's Docker Engine answers.
func needDocker(t *testing.T) {
	t.Helper()
	testenv.NeedCommand(t, "docker")
	if out, err := exec.Command("docker", "version", "--format", "{{.Server.Version}}").CombinedOutput(); err != nil {
		testenv.Skip(t, "the Docker Engine does not answer: "+strings.TrimSpace(string(out)))
	}
}

func docker(t *testing.T, stdin []byte, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func uniqueTag(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "berth-images-test/" + strings.ToLower(t.Name()) + ":" + hex.EncodeToString(b)
}

// TestDockerLoadsBerthSave: `docker load` accepts what Save writes and
// gets the same image ID.
func TestDockerLoadsBerthSave(t *testing.T) {
	needDocker(t)
	s := openStore(t)
	ly, err := testimages.Layered()
	if err != nil {
		t.Fatal(err)
	}
	tag := uniqueTag(t)
	var in bytes.Buffer
	if err := testimages.WriteOCIArchive(&in, map[string]v1.Image{"docker.io/" + tag: ly}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load(context.Background(), &in, nil); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Save(context.Background(), &out, []string{tag}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	msg := docker(t, out.Bytes(), "load")
	if !strings.Contains(msg, "Loaded image: "+tag) {
		t.Errorf("docker load said %q, want it to load %s", msg, tag)
	}
	if got, want := docker(t, nil, "image", "inspect", "--format", "{{.Id}}", tag), configID(t, ly); got != want {
		t.Errorf("docker sees ID %s, want %s", got, want)
	}
}

// TestBerthLoadsDockerSave: Load accepts what `docker save` writes. The
// engine has no images, so one built here is loaded into it first.
func TestBerthLoadsDockerSave(t *testing.T) {
	needDocker(t)
	s := openStore(t)
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	tag := uniqueTag(t)
	var in bytes.Buffer
	if err := testimages.WriteDockerArchive(&in, map[string]v1.Image{tag: bb}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	docker(t, in.Bytes(), "load")
	saved := filepath.Join(t.TempDir(), "saved.tar")
	docker(t, nil, "save", "-o", saved, tag)
	f, err := os.Open(saved)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loaded, err := s.Load(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := configID(t, bb)
	if len(loaded) != 1 || loaded[0].ID != want || len(loaded[0].Names) != 1 || loaded[0].Names[0] != tag {
		t.Errorf("Load(docker save) = %+v, want %s named %s", loaded, want, tag)
	}
	im, err := s.Resolve(tag)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(im.LayerDirs[0], "bin/busybox")); err != nil {
		t.Errorf("busybox not unpacked: %v", err)
	}
}
