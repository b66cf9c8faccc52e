//go:build !windows

package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/berthvm/berth/internal/testimages"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func configID(t *testing.T, img v1.Image) string {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestLoadBothFormats(t *testing.T) {
	bb, err := testimages.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	ly, err := testimages.Layered()
	if err != nil {
		t.Fatal(err)
	}
	imgs := map[string]v1.Image{"example.com/busybox:1": bb, "example.com/layered:2": ly}
	tests := []struct {
		name  string
		write func(io.Writer, map[string]v1.Image) error
	}{
		{"docker-save", testimages.WriteDockerArchive},
		{"oci-layout", testimages.WriteOCIArchive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			var buf bytes.Buffer
			if err := tt.write(&buf, imgs); err != nil {
				t.Fatal(err)
			}
			var msgs []Progress
			loaded, err := s.Load(context.Background(), &buf, func(p Progress) { msgs = append(msgs, p) })
			if err != nil {
				t.Fatal(err)
			}
			if len(loaded) != 2 {
				t.Fatalf("Load = %+v, want 2 images", loaded)
			}
			for ref, img := range imgs {
				im, err := s.Resolve(ref)
				if err != nil {
					t.Errorf("Resolve(%s): %v", ref, err)
					continue
				}
				if want := configID(t, img); im.ID != want {
					t.Errorf("%s: ID %s, want %s", ref, im.ID, want)
				}
			}
			lyImg, _ := s.Resolve("example.com/layered:2")
			checkLayered(t, lyImg)
			if !slices.ContainsFunc(msgs, func(p Progress) bool { return p.Status == "Loading layer" }) {
				t.Errorf("no Loading layer progress in %+v", msgs)
			}
			// Save both and load them into a fresh store: same IDs.
			var out bytes.Buffer
			if err := s.Save(context.Background(), &out, []string{"example.com/busybox:1", "example.com/layered:2"}); err != nil {
				t.Fatal(err)
			}
			checkSaveTarball(t, out.Bytes())
			s2 := openStore(t)
			if _, err := s2.Load(context.Background(), bytes.NewReader(out.Bytes()), nil); err != nil {
				t.Fatalf("load what Save wrote: %v", err)
			}
			for ref, img := range imgs {
				if im, err := s2.Resolve(ref); err != nil || im.ID != configID(t, img) {
					t.Errorf("after save+load, %s = %v, %v", ref, im.ID, err)
				}
			}
		})
	}
}

// checkSaveTarball checks Save's tarball is a docker-save and an OCI layout.
func checkSaveTarball(t *testing.T, b []byte) {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	seen := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		seen[h.Name] = true
		if h.Name == "manifest.json" {
			var m []struct {
				Config           string
				RepoTags, Layers []string
			}
			if err := json.NewDecoder(tr).Decode(&m); err != nil || len(m) != 2 {
				t.Errorf("manifest.json: %+v, %v", m, err)
			}
		}
	}
	for _, want := range []string{"manifest.json", "index.json", "oci-layout"} {
		if !seen[want] {
			t.Errorf("saved tarball lacks %s", want)
		}
	}
}

func TestLoadRefusesBadTarballs(t *testing.T) {
	s := openStore(t)
	bad, err := testimages.Layer([]testimages.File{{Name: "../escape", Body: []byte("x")}}, false)
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimages.Build(runtime.GOARCH, []v1.Layer{bad}, nil, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var hostile bytes.Buffer
	if err := testimages.WriteDockerArchive(&hostile, map[string]v1.Image{"example.com/bad:1": img}); err != nil {
		t.Fatal(err)
	}
	badDigest, _ := bad.Digest()
	tests := []struct {
		name    string
		in      []byte
		wantMsg []string
	}{
		{"empty", nil, []string{"empty"}},
		{"not an image", tarOf(t, map[string]string{"hello.txt": "hi"}), []string{"neither manifest.json nor index.json"}},
		{"missing layer", tarOf(t, map[string]string{"manifest.json": `[{"Config":"c.json","Layers":["nope.tar"]}]`, "c.json": `{"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}`}), []string{"nope.tar"}},
		{"hostile layer", hostile.Bytes(), []string{badDigest.String(), `"../escape"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Load(context.Background(), bytes.NewReader(tt.in), nil)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to mention %s", err, w)
				}
			}
		})
	}
	if len(s.List()) != 0 {
		t.Errorf("failed loads left images: %+v", s.List())
	}
	tmp, _ := os.ReadDir(filepath.Join(s.Root(), "tmp"))
	if len(tmp) != 0 {
		t.Errorf("failed loads left staging: %v", tmp)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root()), "escape")); err == nil {
		t.Errorf("hostile layer wrote outside the store")
	}
}

func tarOf(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for n, c := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg})
		tw.Write([]byte(c))
	}
	tw.Close()
	return buf.Bytes()
}
