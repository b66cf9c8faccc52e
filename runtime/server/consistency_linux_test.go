package server

import (
	"strings"
	"testing"

	"github.com/berthvm/berth/runtime/image"
)

// checkConsistent is the reliability suite's check after a fault or a
// soak: every image's blobs hash to their digests and its layers are
// unpacked; every listed container inspects and names an image the store
// has; every listed volume mounts in a container that reads it. It
// returns how many items are lost or unusable (and reports each).
func checkConsistent(t *testing.T, a *agent) (lost int64) {
	t.Helper()
	images, err := a.srv.imageStore()
	if err != nil {
		t.Fatal(err)
	}
	return verifyImages(t, images) + checkListed(t, a.sock)
}

// verifyImages runs the image store's Verify and counts what it names.
func verifyImages(t *testing.T, images *image.Store) (lost int64) {
	t.Helper()
	if err := images.Verify(); err != nil {
		t.Errorf("image store: %v", err)
		lost += int64(strings.Count(err.Error(), "\n") + 1)
	}
	return lost
}

// checkListed checks, through the docker CLI on sock, that every listed
// container inspects and names an image the agent has, and every listed
// volume mounts in a container that reads it.
func checkListed(t *testing.T, sock string) (lost int64) {
	t.Helper()
	out, errOut, code := docker(t, sock, "", "ps", "-aq", "--no-trunc")
	if code != 0 {
		t.Fatalf("docker ps -a: %s", errOut)
	}
	for _, id := range strings.Fields(out) {
		img, errOut, code := docker(t, sock, "", "inspect", "-f", "{{.Image}}", id)
		if code != 0 {
			t.Errorf("listed container %s does not inspect: %s", id, errOut)
			lost++
			continue
		}
		if _, errOut, code := docker(t, sock, "", "image", "inspect", strings.TrimSpace(img)); code != 0 {
			t.Errorf("listed container %s names image %s, which the agent lacks: %s", id, strings.TrimSpace(img), errOut)
			lost++
		}
	}
	out, errOut, code = docker(t, sock, "", "volume", "ls", "-q")
	if code != 0 {
		t.Fatalf("docker volume ls: %s", errOut)
	}
	for _, v := range strings.Fields(out) {
		if _, errOut, code := docker(t, sock, "", "run", "--rm", "--network", "none", "-v", v+":/v", "busybox", "ls", "/v"); code != 0 {
			t.Errorf("listed volume %s is not usable: %s", v, errOut)
			lost++
		}
	}
	return lost
}
