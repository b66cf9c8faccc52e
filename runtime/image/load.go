package image

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/klauspost/compress/gzip"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Loaded is one image a load stored.
type Loaded struct {
	ID    string
	Names []string // familiar names; empty for an image loaded by ID only
}

// maxLoadEntries bounds the entries of a tarball given to Load.
const maxLoadEntries = 1 << 16

// Load reads a docker-save tarball or a tarball of an OCI image layout
// from r (a stream: it is read once) and stores its images.
func (s *Store) Load(ctx context.Context, r io.Reader, progress ProgressFunc) ([]Loaded, error) {
	loaded, err := s.load(ctx, r, progress)
	s.collectIfDiskFull(err)
	return loaded, err
}

func (s *Store) load(ctx context.Context, r io.Reader, progress ProgressFunc) ([]Loaded, error) {
	rep := &reporter{fn: progress}
	stage, err := s.staging("load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	br := bufio.NewReaderSize(r, 1<<20)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("load: open gzip tarball: %w", err)
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	sp, err := spool(ctx, r, stage)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	type item struct {
		src   *source
		names []string
	}
	var items []item
	if _, ok := sp.files["manifest.json"]; ok {
		entries, err := sp.dockerManifest()
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		for _, e := range entries {
			src, err := sp.dockerSource(e)
			if err != nil {
				return nil, fmt.Errorf("load: %w", err)
			}
			var names []string
			for _, t := range e.RepoTags {
				ref, err := ParseName(t)
				if err != nil {
					return nil, fmt.Errorf("load: %w", err)
				}
				names = append(names, canonical(ref))
			}
			items = append(items, item{src, names})
		}
	} else if _, ok := sp.files["index.json"]; ok {
		srcs, names, err := sp.ociSources()
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
		for i := range srcs {
			items = append(items, item{srcs[i], names[i]})
		}
	} else {
		return nil, errors.New("load: not a docker-save or OCI layout tarball (it has neither manifest.json nor index.json)")
	}
	var out []Loaded
	for _, it := range items {
		id, _, err := s.put(ctx, it.src, it.names, rep)
		if err != nil {
			return out, fmt.Errorf("load: %w", err)
		}
		l := Loaded{ID: id}
		for _, n := range it.names {
			l.Names = append(l.Names, Familiar(n))
		}
		out = append(out, l)
	}
	return out, nil
}

// spooled is a tarball's files, stored by content digest in a staging
// folder as they stream by.
type spooled struct {
	dir   string
	files map[string]string // archive path -> digest
	sizes map[string]int64  // digest -> size
	links map[string]string // archive path -> archive path it links to
}

func spool(ctx context.Context, r io.Reader, dir string) (*spooled, error) {
	sp := &spooled{dir: dir, files: map[string]string{}, sizes: map[string]int64{}, links: map[string]string{}}
	if err := os.MkdirAll(filepath.Join(dir, "blobs"), 0o700); err != nil {
		return nil, err
	}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, errors.New("the tarball is empty")
			}
			return sp, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read tarball: %w", err)
		}
		if n > maxLoadEntries {
			return nil, fmt.Errorf("the tarball has more than %d entries", maxLoadEntries)
		}
		name := path.Clean(strings.TrimPrefix(hdr.Name, "/"))
		if name == ".." || strings.HasPrefix(name, "../") {
			return nil, fmt.Errorf("tarball entry %q leaves the archive", hdr.Name)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			d, err := sp.store(tr)
			if err != nil {
				return nil, fmt.Errorf("tarball entry %q: %w", hdr.Name, err)
			}
			sp.files[name] = d
		case tar.TypeSymlink:
			t := hdr.Linkname
			if !path.IsAbs(t) {
				t = path.Join(path.Dir(name), t)
			}
			sp.links[name] = path.Clean(strings.TrimPrefix(t, "/"))
		case tar.TypeLink:
			sp.links[name] = path.Clean(strings.TrimPrefix(hdr.Linkname, "/"))
		}
	}
}

// store writes one file's content under its digest.
func (sp *spooled) store(r io.Reader) (string, error) {
	f, err := os.CreateTemp(filepath.Join(sp.dir, "blobs"), ".in-")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", err
	}
	d := "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(f.Name(), sp.path(d)); err != nil {
		return "", err
	}
	sp.sizes[d] = n
	return d, nil
}

func (sp *spooled) path(digest string) string {
	return filepath.Join(sp.dir, "blobs", strings.TrimPrefix(digest, "sha256:"))
}

// resolve returns the digest of the file at an archive path, through
// links.
func (sp *spooled) resolve(name string) (string, error) {
	name = path.Clean(strings.TrimPrefix(name, "/"))
	for i := 0; i < 16; i++ {
		if d, ok := sp.files[name]; ok {
			return d, nil
		}
		t, ok := sp.links[name]
		if !ok {
			return "", fmt.Errorf("%q is not in the tarball", name)
		}
		name = t
	}
	return "", fmt.Errorf("%q: too many links", name)
}

func (sp *spooled) read(name string) ([]byte, string, error) {
	d, err := sp.resolve(name)
	if err != nil {
		return nil, "", err
	}
	if sp.sizes[d] > 16<<20 {
		return nil, "", fmt.Errorf("%q is too large for JSON metadata", name)
	}
	b, err := os.ReadFile(sp.path(d))
	return b, d, err
}

type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func (sp *spooled) dockerManifest() ([]dockerEntry, error) {
	b, _, err := sp.read("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("parse manifest.json: %w", err)
	}
	if len(entries) == 0 {
		return nil, errors.New("manifest.json lists no image")
	}
	return entries, nil
}

// sniffMediaType names a layer blob's media type from its first bytes.
func (sp *spooled) sniffMediaType(digest string) (string, error) {
	f, err := os.Open(sp.path(digest))
	if err != nil {
		return "", err
	}
	defer f.Close()
	magic := make([]byte, 4)
	n, _ := io.ReadFull(f, magic)
	magic = magic[:n]
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		return "application/vnd.docker.image.rootfs.diff.tar.gzip", nil
	case n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		return ocispec.MediaTypeImageLayerZstd, nil
	}
	return "application/vnd.docker.image.rootfs.diff.tar", nil
}

// dockerSource makes a source of one manifest.json entry, with a
// manifest made for it (docker-save tarballs carry none).
func (sp *spooled) dockerSource(e dockerEntry) (*source, error) {
	cfg, cfgDigest, err := sp.read(e.Config)
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	m := ocispec.Manifest{MediaType: "application/vnd.docker.distribution.manifest.v2+json"}
	m.SchemaVersion = 2
	m.Config = ocispec.Descriptor{MediaType: "application/vnd.docker.container.image.v1+json", Digest: digest.Digest(cfgDigest), Size: int64(len(cfg))}
	src := &source{config: cfg, configID: cfgDigest, mediaType: m.MediaType, loading: true}
	for _, lp := range e.Layers {
		d, err := sp.resolve(lp)
		if err != nil {
			return nil, fmt.Errorf("layer: %w", err)
		}
		mt, err := sp.sniffMediaType(d)
		if err != nil {
			return nil, err
		}
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: mt, Digest: digest.Digest(d), Size: sp.sizes[d]})
		src.layers = append(src.layers, sp.layer(d, mt))
	}
	if src.manifest, err = json.Marshal(m); err != nil {
		return nil, err
	}
	return src, nil
}

func (sp *spooled) layer(d, mediaType string) srcLayer {
	p := sp.path(d)
	return srcLayer{
		digest: d, mediaType: mediaType, size: sp.sizes[d], spooled: p,
		open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) },
	}
}

// ociBlob reads blobs/sha256/<hex> of the layout, checking its content
// has that digest.
func (sp *spooled) ociBlob(digest string) ([]byte, error) {
	p := "blobs/" + strings.Replace(digest, ":", "/", 1)
	b, d, err := sp.read(p)
	if err != nil {
		return nil, err
	}
	if d != digest {
		return nil, fmt.Errorf("%s holds content with digest %s", p, d)
	}
	return b, nil
}

// ociSources makes a source per image of an OCI layout's index.json,
// resolving nested indexes to this machine's platform.
func (sp *spooled) ociSources() ([]*source, [][]string, error) {
	b, _, err := sp.read("index.json")
	if err != nil {
		return nil, nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, nil, fmt.Errorf("parse index.json: %w", err)
	}
	var srcs []*source
	var names [][]string
	byManifest := map[string]int{}
	for _, desc := range idx.Manifests {
		md, err := sp.ociImageManifest(desc, 0)
		if err != nil {
			return nil, nil, err
		}
		if md == nil {
			continue // another platform's
		}
		var n []string
		for _, key := range []string{"io.containerd.image.name", ocispec.AnnotationRefName} {
			v := desc.Annotations[key]
			if v == "" || !strings.ContainsAny(v, ":/") {
				continue
			}
			if ref, err := ParseName(v); err == nil {
				n = []string{canonical(ref)}
				break
			}
		}
		if i, ok := byManifest[md.Digest.String()]; ok {
			names[i] = append(names[i], n...)
			continue
		}
		src, err := sp.ociSource(*md)
		if err != nil {
			return nil, nil, err
		}
		byManifest[md.Digest.String()] = len(srcs)
		srcs = append(srcs, src)
		names = append(names, n)
	}
	if len(srcs) == 0 {
		p := DefaultPlatform()
		return nil, nil, fmt.Errorf("index.json holds no image for %s", p.String())
	}
	return srcs, names, nil
}

// ociImageManifest follows desc down nested indexes to the image manifest
// for this platform; nil when desc is for another platform.
func (sp *spooled) ociImageManifest(desc ocispec.Descriptor, depth int) (*ocispec.Descriptor, error) {
	want := DefaultPlatform()
	if desc.Platform != nil && !platformMatches(*desc.Platform, want) {
		return nil, nil
	}
	switch desc.MediaType {
	case ocispec.MediaTypeImageIndex, "application/vnd.docker.distribution.manifest.list.v2+json":
		if depth > 4 {
			return nil, errors.New("index.json nests indexes too deep")
		}
		b, err := sp.ociBlob(desc.Digest.String())
		if err != nil {
			return nil, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return nil, fmt.Errorf("parse index %s: %w", desc.Digest, err)
		}
		for _, child := range idx.Manifests {
			md, err := sp.ociImageManifest(child, depth+1)
			if err != nil || md != nil {
				return md, err
			}
		}
		return nil, nil
	default:
		return &desc, nil
	}
}

func platformMatches(p ocispec.Platform, want v1.Platform) bool {
	if p.OS != want.OS || p.Architecture != want.Architecture {
		return false
	}
	return p.Variant == "" || want.Variant == "" || p.Variant == want.Variant
}

func (sp *spooled) ociSource(desc ocispec.Descriptor) (*source, error) {
	mb, err := sp.ociBlob(desc.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("image manifest: %w", err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(mb, &m); err != nil {
		return nil, fmt.Errorf("parse image manifest %s: %w", desc.Digest, err)
	}
	cfg, err := sp.ociBlob(m.Config.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	mt := m.MediaType
	if mt == "" {
		mt = desc.MediaType
	}
	src := &source{manifest: mb, mediaType: mt, config: cfg, configID: m.Config.Digest.String(), loading: true}
	for _, l := range m.Layers {
		d := l.Digest.String()
		if _, err := sp.resolve("blobs/" + strings.Replace(d, ":", "/", 1)); err != nil {
			return nil, fmt.Errorf("layer %s: %w", d, err)
		}
		if got, _ := sp.resolve("blobs/" + strings.Replace(d, ":", "/", 1)); got != d {
			return nil, fmt.Errorf("layer %s: the tarball's blob has digest %s", d, got)
		}
		src.layers = append(src.layers, sp.layer(d, l.MediaType))
	}
	return src, nil
}
