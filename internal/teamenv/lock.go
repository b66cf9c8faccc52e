package teamenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.yaml.in/yaml/v3"

	"github.com/berthvm/berth/internal/atomicfile"
)

// LockVersion is the format of berth.lock this berth writes.
const LockVersion = 1

// Arches are the architectures a lock resolves images for.
var Arches = []string{"amd64", "arm64"}

// Lock is berth.lock: what `berth up --frozen` must use.
type Lock struct {
	Version int       `yaml:"version"`
	BerthOS LockedOS  `yaml:"berth-os"`
	Agent   LockedApp `yaml:"agent"`
	Images  []Image   `yaml:"images"`
}

// LockedOS is the guest OS ISO.
type LockedOS struct {
	Version string `yaml:"version"`
	SHA256  string `yaml:"sha256"`
}

// LockedApp is the agent.
type LockedApp struct {
	Version string `yaml:"version"`
}

// Image is one service's image resolved to digests.
type Image struct {
	Machine string `yaml:"machine"` // short name
	Service string `yaml:"service"`
	Image   string `yaml:"image"` // as the compose file names it
	// Digest is the digest the reference resolved to (an index or a
	// single manifest).
	Digest string `yaml:"digest"`
	// Platforms are the manifest digests per architecture ("amd64");
	// an architecture the image lacks is absent.
	Platforms map[string]string `yaml:"platforms"`
}

// ErrNoLock marks an environment without berth.lock (up --frozen).
var ErrNoLock = errors.New("no " + LockName)

// LockPath is the lock's path beside env's file.
func (e *Env) LockPath() string { return filepath.Join(e.Dir, LockName) }

// ReadLock reads env's berth.lock.
func (e *Env) ReadLock() (*Lock, error) {
	data, err := os.ReadFile(e.LockPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w beside %s (run `berth lock` and commit it)", ErrNoLock, e.File)
	}
	if err != nil {
		return nil, err
	}
	var l Lock
	if err := yaml.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("read %s: %w", e.LockPath(), err)
	}
	if l.Version != LockVersion {
		return nil, fmt.Errorf("read %s: version %d, this berth reads %d (run `berth lock` again)", e.LockPath(), l.Version, LockVersion)
	}
	return &l, nil
}

// WriteLock writes l as env's berth.lock.
func (e *Env) WriteLock(l *Lock) error {
	sort.Slice(l.Images, func(i, j int) bool {
		a, b := l.Images[i], l.Images[j]
		if a.Machine != b.Machine {
			return a.Machine < b.Machine
		}
		return a.Service < b.Service
	})
	data, err := yaml.Marshal(l)
	if err != nil {
		return err
	}
	head := "# berth.lock: written by `berth lock`; `berth up --frozen` uses exactly this.\n"
	return atomicfile.WriteFile(e.LockPath(), append([]byte(head), data...), 0o644)
}

// HostAlias is the host as QEMU's and VirtualBox's NAT show it to a
// machine; a registry there is this computer's 127.0.0.1.
const HostAlias = "10.0.2.2"

// Resolve resolves ref to its digest and, per architecture in Arches, its
// manifest's digest. Registries in insecure are reached over plain HTTP;
// one at HostAlias is reached at 127.0.0.1, where it is on this computer.
func Resolve(ctx context.Context, ref string, insecure []string) (Image, error) {
	ref = strings.TrimSpace(ref)
	var opts []name.Option
	host := ref
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	for _, r := range insecure {
		if r == host {
			opts = append(opts, name.Insecure)
		}
	}
	fetch := ref
	if rest, ok := strings.CutPrefix(ref, HostAlias+":"); ok {
		fetch = "127.0.0.1:" + rest
	}
	r, err := name.ParseReference(fetch, opts...)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: %w", ref, err)
	}
	ro := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	desc, err := remote.Get(r, ro...)
	if err != nil {
		return Image{}, fmt.Errorf("resolve image %q: %w", ref, err)
	}
	out := Image{Image: ref, Digest: desc.Digest.String(), Platforms: map[string]string{}}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return Image{}, fmt.Errorf("resolve image %q: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return Image{}, fmt.Errorf("resolve image %q: %w", ref, err)
		}
		for _, m := range im.Manifests {
			if m.Platform == nil || m.Platform.OS != "linux" || m.Platform.Variant != "" && m.Platform.Architecture != "arm64" {
				continue
			}
			if contains(Arches, m.Platform.Architecture) && out.Platforms[m.Platform.Architecture] == "" {
				out.Platforms[m.Platform.Architecture] = m.Digest.String()
			}
		}
		return out, nil
	}
	img, err := desc.Image()
	if err != nil {
		return Image{}, fmt.Errorf("resolve image %q: %w", ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return Image{}, fmt.Errorf("resolve image %q: %w", ref, err)
	}
	if contains(Arches, cf.Architecture) {
		out.Platforms[cf.Architecture] = desc.Digest.String()
	}
	return out, nil
}

// Pinned is ref pinned to the locked digest for arch: "repo@sha256:..."
// (the repository without its tag).
func (im Image) Pinned(arch string) (string, bool) {
	d, ok := im.Platforms[arch]
	if !ok {
		return "", false
	}
	ref := im.Image
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		ref = ref[:i]
	}
	return ref + "@" + d, true
}
