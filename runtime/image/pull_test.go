//go:build !windows

package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testimages"
	"github.com/berthvm/berth/internal/testregistry"
	"golang.org/x/sys/unix"
)

func TestPullByTagResolveAndProgress(t *testing.T) {
	s := openStore(t)
	reg := registry(t)
	var msgs []Progress
	res, err := s.Pull(context.Background(), reg.Host+"/busybox", PullOptions{Progress: func(p Progress) { msgs = append(msgs, p) }})
	if err != nil {
		t.Fatal(err)
	}
	if !res.New || res.Name != reg.Host+"/busybox:latest" {
		t.Errorf("Pull = %+v, want a new image named %s/busybox:latest", res, reg.Host)
	}
	want := []string{"Pulling from busybox", "Pulling fs layer", "Download complete", "Pull complete", "Digest: " + res.Digest, "Status: Downloaded newer image for " + reg.Host + "/busybox:latest"}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Status)
	}
	joined := strings.Join(got, "|")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("progress %q lacks %q", joined, w)
		}
	}
	im, err := s.Resolve(reg.Host + "/busybox:latest")
	if err != nil {
		t.Fatal(err)
	}
	if im.ID != res.ID || len(im.LayerDirs) != 1 || strings.Join(im.Config.Config.Cmd, " ") != "sh" {
		t.Errorf("Resolve = %s %v cmd %v, want %s, one layer, cmd sh", im.ID, im.LayerDirs, im.Config.Config.Cmd, res.ID)
	}
	if fi, err := os.Stat(filepath.Join(im.LayerDirs[0], "bin/busybox")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("unpacked bin/busybox: %v, %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(im.LayerDirs[0], "bin/sh")); l != "busybox" {
		t.Errorf("bin/sh -> %q, want busybox", l)
	}
	// By short ID, too.
	if im2, err := s.Resolve(ShortID(res.ID)); err != nil || im2.ID != res.ID {
		t.Errorf("Resolve(short ID) = %v, %v", im2.ID, err)
	}
	// A second pull finds it up to date.
	msgs = nil
	res2, err := s.Pull(context.Background(), reg.Host+"/busybox:latest", PullOptions{Progress: func(p Progress) { msgs = append(msgs, p) }})
	if err != nil || res2.New || res2.ID != res.ID {
		t.Errorf("second Pull = %+v, %v; want the same image, not new", res2, err)
	}
	if last := msgs[len(msgs)-1].Status; !strings.Contains(last, "Image is up to date") {
		t.Errorf("second pull ended with %q", last)
	}
	for _, m := range msgs {
		if m.Status == "Downloading" {
			t.Errorf("second pull downloaded a layer again")
		}
	}
}

func TestPullByDigestAndIndex(t *testing.T) {
	s := openStore(t)
	reg := registry(t)
	res, err := s.Pull(context.Background(), reg.Host+"/hello", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := testimages.Hello(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := want.ConfigName()
	if res.ID != wantID.String() {
		t.Errorf("pulled hello %s, want the %s image %s", res.ID, runtime.GOARCH, wantID)
	}
	idx, _ := testimages.HelloIndex()
	idxDigest, _ := idx.Digest()
	if res.Digest != idxDigest.String() {
		t.Errorf("Digest = %s, want the index digest %s", res.Digest, idxDigest)
	}
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	res2, err := s.Pull(context.Background(), reg.Host+"/hello:latest", PullOptions{Platform: "linux/" + other})
	if err != nil {
		t.Fatal(err)
	}
	if res2.ID == res.ID {
		t.Errorf("platform linux/%s pulled the same image as the default", other)
	}
	// By digest: the image stays nameless but found by name@digest.
	s2 := openStore(t)
	ref := reg.Host + "/hello@" + idxDigest.String()
	res3, err := s2.Pull(context.Background(), ref, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res3.ID != res.ID {
		t.Errorf("pull by digest = %s, want %s", res3.ID, res.ID)
	}
	if _, err := s2.Resolve(ref); err != nil {
		t.Errorf("Resolve(%s): %v", ref, err)
	}
	list := s2.List()
	if len(list) != 1 || len(list[0].RepoTags) != 0 || len(list[0].RepoDigests) != 1 {
		t.Errorf("List after pull by digest = %+v, want one untagged image with one digest", list)
	}
}

func TestPullErrors(t *testing.T) {
	s := openStore(t)
	reg := registry(t)
	authReg := testregistry.Start(t, testregistry.Options{User: "berth", Password: "s3cret"})
	if err := pushTestImages(authReg.Host, "berth", "s3cret"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref string
		opts      PullOptions
		want      error
		wantMsg   string
	}{
		{"missing tag", reg.Host + "/busybox:nope", PullOptions{}, ErrNotFound, "not found"},
		{"missing repository", reg.Host + "/nothing:latest", PullOptions{}, ErrNotFound, "not found"},
		{"no platform", reg.Host + "/hello", PullOptions{Platform: "linux/s390x"}, nil, "s390x"},
		{"bad name", "UPPER/case", PullOptions{}, ErrInvalid, "invalid reference"},
		{"no credentials", authReg.Host + "/busybox", PullOptions{}, ErrUnauthorized, "pull access denied"},
		{"wrong password", authReg.Host + "/busybox", PullOptions{Auth: &Auth{Username: "berth", Password: "wrong"}}, ErrUnauthorized, "pull access denied"},
		{"nothing listening", "127.0.0.1:1/busybox", PullOptions{}, nil, "127.0.0.1:1"},
		{"plain http not named insecure", "10.255.255.1:5000/busybox", PullOptions{}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "plain http not named insecure" {
				// Reaching a private address over plain HTTP must be refused
				// before any request leaves: the guard answers directly.
				g := &httpGuard{base: failTransport{t}}
				req, _ := newRequest("http://10.0.2.2:5000/v2/")
				if _, err := g.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "insecure") {
					t.Errorf("guard let plain HTTP through: %v", err)
				}
				g.insecure = []string{"10.0.2.2:5000"}
				if _, err := g.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "reached") {
					t.Errorf("guard refused a registry named insecure: %v", err)
				}
				return
			}
			_, err := s.Pull(context.Background(), tt.ref, tt.opts)
			if err == nil {
				t.Fatal("Pull succeeded, want an error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %v, want it to mention %q", err, tt.wantMsg)
			}
		})
	}
	if len(s.List()) != 0 {
		t.Errorf("failed pulls left images: %+v", s.List())
	}
	res, err := s.Pull(context.Background(), authReg.Host+"/busybox", PullOptions{Auth: &Auth{Username: "berth", Password: "s3cret"}})
	if err != nil {
		t.Fatalf("pull with credentials: %v", err)
	}
	if _, err := s.Resolve(res.ID); err != nil {
		t.Error(err)
	}
}

func TestRemoveSharedLayers(t *testing.T) {
	s := openStore(t)
	reg := registry(t)
	ctx := context.Background()
	bb, err := s.Pull(ctx, reg.Host+"/busybox", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ly, err := s.Pull(ctx, reg.Host+"/layered", PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bbImg, _ := s.Resolve(bb.ID)
	lyImg, _ := s.Resolve(ly.ID)
	if bbImg.LayerDirs[0] != lyImg.LayerDirs[0] {
		t.Fatalf("layered does not share busybox's layer: %s vs %s", bbImg.LayerDirs[0], lyImg.LayerDirs[0])
	}
	checkLayered(t, lyImg)
	if err := s.Tag(reg.Host+"/busybox", "mybox:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ShortID(bb.ID), false); !errors.Is(err, ErrConflict) {
		t.Errorf("Remove by ID of an image with two names: %v, want a conflict", err)
	}
	del, err := s.Remove("mybox:1", false)
	if err != nil || len(del) != 1 || del[0].Untagged != "mybox:1" {
		t.Errorf("Remove(mybox:1) = %+v, %v; want only an untag", del, err)
	}
	// A container uses busybox: refuse unless forced.
	if _, err := s.Use(bb.ID, "c0ffee"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(reg.Host+"/busybox", false); !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "c0ffee") {
		t.Errorf("Remove of an image in use: %v, want a conflict naming the container", err)
	}
	if err := s.Release(bb.ID, "c0ffee"); err != nil {
		t.Fatal(err)
	}
	del, err = s.Remove(reg.Host+"/busybox", false)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for _, d := range del {
		if d.Deleted != "" {
			deleted = append(deleted, d.Deleted)
		}
	}
	if len(deleted) != 1 || deleted[0] != bb.ID {
		t.Errorf("Remove(busybox) deleted %v, want only the image (its layer is shared)", deleted)
	}
	if _, err := os.Stat(bbImg.LayerDirs[0]); err != nil {
		t.Errorf("shared layer removed: %v", err)
	}
	del, err = s.Remove(reg.Host+"/layered", false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(del); n != 2+1+len(lyImg.LayerDirs) {
		t.Errorf("Remove(layered) = %+v, want two untags, image and %d layers", del, len(lyImg.LayerDirs))
	}
	for _, d := range lyImg.LayerDirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("layer %s left behind", d)
		}
	}
	blobs, _ := os.ReadDir(filepath.Join(s.Root(), "blobs", "sha256"))
	if len(blobs) != 0 || len(s.List()) != 0 {
		t.Errorf("store not empty after removing everything: %d blobs, %d images", len(blobs), len(s.List()))
	}
}

// checkLayered checks the layered test image's layer folders hold the
// overlayfs form of its whiteouts, opaque directory and links.
func checkLayered(t *testing.T, im Image) {
	t.Helper()
	top := im.LayerDirs[2]
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(top, "data/gone"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("data/gone is not a whiteout in the top layer: %v", err)
	}
	buf := make([]byte, 4)
	if n, err := unix.Getxattr(filepath.Join(top, "opaque"), "trusted.overlay.opaque", buf); err != nil || string(buf[:n]) != "y" {
		t.Errorf("opaque/ is not marked opaque: %v", err)
	}
	var a, b unix.Stat_t
	unix.Lstat(filepath.Join(top, "links/file"), &a)
	unix.Lstat(filepath.Join(top, "links/hard"), &b)
	if a.Ino == 0 || a.Ino != b.Ino {
		t.Errorf("links/hard is not a hardlink of links/file")
	}
	if got := im.LowerDir(); !strings.HasPrefix(got, top+":") {
		t.Errorf("LowerDir = %q, want the top layer first", got)
	}
}
