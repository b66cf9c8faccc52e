// Package testimages builds, without internet, the images berth's tests
// and benchmarks use: busybox (from Debian's busybox-static), hello (a tiny
// static program, for amd64 and arm64), a layered image exercising
// whiteouts and links, and a ~100 MB five-layer image.
package testimages

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Created is the creation time of every test image, so digests are stable.
var Created = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// File is one entry of a test layer.
type File struct {
	Name string
	Type byte // tar.TypeReg when zero
	Mode int64
	Link string
	Body []byte
}

// LayerTar returns the uncompressed tar of files.
func LayerTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.Name, Typeflag: f.Type, Mode: f.Mode, Linkname: f.Link, ModTime: Created, Format: tar.FormatPAX}
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Mode == 0 {
			h.Mode = 0o644
			if h.Typeflag == tar.TypeDir {
				h.Mode = 0o755
			}
		}
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(f.Body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.Name, err)
		}
		if _, err := tw.Write(f.Body); err != nil {
			return nil, fmt.Errorf("tar %s: %w", f.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Layer makes a gzip-compressed layer of files; oci picks OCI media types.
func Layer(files []File, oci bool) (v1.Layer, error) {
	b, err := LayerTar(files)
	if err != nil {
		return nil, err
	}
	return layerFromTar(b, oci)
}

func layerFromTar(b []byte, oci bool) (v1.Layer, error) {
	mt := types.DockerLayer
	if oci {
		mt = types.OCILayer
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompressionLevel(gzip.BestSpeed), tarball.WithMediaType(mt))
	if err != nil {
		return nil, fmt.Errorf("make layer: %w", err)
	}
	return l, nil
}

// Build makes an image for arch from layers with the given command and
// environment; oci picks OCI media types.
func Build(arch string, layers []v1.Layer, cmd, env []string, oci bool) (v1.Image, error) {
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	if arch == "arm64" {
		cf.Variant = "v8"
	}
	cf.Created = v1.Time{Time: Created}
	cf.Config.Cmd = cmd
	cf.Config.Env = env
	for i := range cf.History {
		cf.History[i].Created = v1.Time{Time: Created}
	}
	return mutate.ConfigFile(img, cf)
}

// PathEnv is the environment every test image sets.
var PathEnv = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// Hello returns the hello image for arch (amd64 or arm64): /hello prints
// Greeting.
func Hello(arch string) (v1.Image, error) {
	prog, err := helloELF(arch)
	if err != nil {
		return nil, err
	}
	l, err := Layer([]File{{Name: "hello", Mode: 0o755, Body: prog}}, true)
	if err != nil {
		return nil, err
	}
	return Build(arch, []v1.Layer{l}, []string{"/hello"}, PathEnv, true)
}

// HelloIndex returns hello as a multi-platform OCI index (linux/amd64 and
// linux/arm64/v8), like hello-world on Docker Hub.
func HelloIndex() (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := Hello(arch)
		if err != nil {
			return nil, err
		}
		p := &v1.Platform{OS: "linux", Architecture: arch}
		if arch == "arm64" {
			p.Variant = "v8"
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return idx, nil
}

// BusyboxPath finds a static busybox on this machine (Debian's
// busybox-static package).
func BusyboxPath() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			if prog.Type == elf.PT_INTERP {
				static = false
			}
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", fmt.Errorf("no static busybox found: install Debian's busybox-static (scripts/deps.sh test)")
}

// BusyboxFiles returns the files of the busybox image: /bin/busybox, a
// symlink per applet, /etc/passwd and /etc/group, /tmp and /root.
func BusyboxFiles() ([]File, error) {
	p, err := BusyboxPath()
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read busybox: %w", err)
	}
	out, err := exec.Command(p, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("list busybox applets: %w", err)
	}
	files := []File{
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/busybox", Mode: 0o755, Body: bin},
	}
	for _, a := range strings.Fields(string(out)) {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		files = append(files, File{Name: "bin/" + a, Type: tar.TypeSymlink, Link: "busybox", Mode: 0o777})
	}
	files = append(files,
		File{Name: "etc/", Type: tar.TypeDir},
		File{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n")},
		File{Name: "etc/group", Body: []byte("root:x:0:\ndaemon:x:1:\ntty:x:5:\nnogroup:x:65534:\n")},
		File{Name: "root/", Type: tar.TypeDir, Mode: 0o700},
		File{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		File{Name: "usr/", Type: tar.TypeDir},
		File{Name: "usr/bin/", Type: tar.TypeDir},
		File{Name: "var/", Type: tar.TypeDir},
	)
	return files, nil
}

// Busybox returns a one-layer busybox image for this machine's
// architecture, with sh as its command.
func Busybox() (v1.Image, error) {
	files, err := BusyboxFiles()
	if err != nil {
		return nil, err
	}
	l, err := Layer(files, false)
	if err != nil {
		return nil, err
	}
	return Build(runtime.GOARCH, []v1.Layer{l}, []string{"sh"}, PathEnv, false)
}

// Layered returns a three-layer image on top of busybox that exercises
// whiteouts, an opaque directory, hardlinks and symlinks. Seen through
// overlayfs: /data/keep holds "keep", /data/gone is absent, /opaque holds
// only "new", /links/hard and /links/file are the same inode,
// /links/sym -> file, /etc/motd holds "layer 3".
func Layered() (v1.Image, error) {
	bb, err := BusyboxFiles()
	if err != nil {
		return nil, err
	}
	specs := [][]File{
		bb,
		{
			{Name: "data/", Type: tar.TypeDir},
			{Name: "data/keep", Body: []byte("keep")},
			{Name: "data/gone", Body: []byte("gone")},
			{Name: "opaque/", Type: tar.TypeDir},
			{Name: "opaque/old1", Body: []byte("old")},
			{Name: "opaque/old2", Body: []byte("old")},
			{Name: "etc/motd", Body: []byte("layer 2")},
		},
		{
			{Name: "data/.wh.gone"},
			{Name: "opaque/.wh..wh..opq"},
			{Name: "opaque/new", Body: []byte("new")},
			{Name: "links/", Type: tar.TypeDir},
			{Name: "links/file", Body: []byte("linked")},
			{Name: "links/hard", Type: tar.TypeLink, Link: "links/file"},
			{Name: "links/sym", Type: tar.TypeSymlink, Link: "file"},
			{Name: "etc/motd", Body: []byte("layer 3")},
		},
	}
	var layers []v1.Layer
	for _, files := range specs {
		l, err := Layer(files, true)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return Build(runtime.GOARCH, layers, []string{"sh"}, PathEnv, true)
}

var big struct {
	once sync.Once
	img  v1.Image
	err  error
}

// BigLayers and BigLayerBytes size the benchmark image: five layers of
// 20 MiB each of pseudo-random, barely compressible data.
const (
	BigLayers     = 5
	BigLayerBytes = 20 << 20
)

// Big returns the ~100 MB, five-layer benchmark image (built once per
// process).
func Big() (v1.Image, error) {
	big.once.Do(func() {
		var layers []v1.Layer
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < BigLayers; i++ {
			files := []File{{Name: fmt.Sprintf("big%d/", i), Type: tar.TypeDir}}
			const perFile = 1 << 20
			for j := 0; j < BigLayerBytes/perFile; j++ {
				body := make([]byte, perFile)
				for k := 0; k+8 <= len(body); k += 8 {
					v := rng.Uint64()
					for b := 0; b < 8; b++ {
						body[k+b] = byte(v >> (8 * b))
					}
				}
				files = append(files, File{Name: fmt.Sprintf("big%d/f%02d", i, j), Body: body})
			}
			l, err := Layer(files, false)
			if err != nil {
				big.err = err
				return
			}
			layers = append(layers, l)
		}
		big.img, big.err = Build(runtime.GOARCH, layers, []string{"true"}, PathEnv, false)
	})
	return big.img, big.err
}

// WithFile returns img with one more layer that holds body at name
// (mode 0755: a program built by the test, say).
func WithFile(img v1.Image, name string, body []byte) (v1.Image, error) {
	l, err := Layer([]File{{Name: name, Mode: 0o755, Body: body}}, false)
	if err != nil {
		return nil, err
	}
	return mutate.AppendLayers(img, l)
}
