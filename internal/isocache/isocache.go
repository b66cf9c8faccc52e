// Package isocache finds the berth-os ISO a machine boots: a local `make
// iso` build, a copy kept by version in ~/.berth/cache, or a download that is
// fetched once and checked against its SHA-256.
package isocache

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNoISO is returned (wrapped) when no berth-os ISO can be found.
var ErrNoISO = errors.New("no berth-os ISO found: run `make iso` (it builds build/berth-os.iso), set BERTH_ISO=PATH or BERTH_ISO_URL=URL, or pass the ISO's path or URL to create")

// BuildPath is where `make iso` writes the amd64 ISO under its first name,
// relative to the repository; BuildPathOf names each architecture's.
const BuildPath = "build/berth-os.iso"

// Architectures lists the guest architectures berth-os is built for.
var Architectures = []string{"amd64", "arm64"}

// BuildPathOf is where `make iso` writes the ISO of arch (amd64 or
// arm64), relative to the repository.
func BuildPathOf(arch string) string {
	return "build/berth-os-" + archOr(arch) + ".iso"
}

// ArchOf tells the architecture of a berth-os ISO from its volume id: the
// arm64 ISO's ends in "-arm64" (berth-os-v0.2.0-arm64), the amd64 one's
// has no suffix (as before there were two).
func ArchOf(volumeID string) string {
	if strings.HasSuffix(volumeID, "-arm64") {
		return "arm64"
	}
	return "amd64"
}

func archOr(arch string) string {
	if arch == "" {
		return "amd64"
	}
	return arch
}

// Cache is the ISO cache folder and how it reports downloads.
type Cache struct {
	// Dir is the cache folder (~/.berth/cache). It is made on demand.
	Dir string
	// Progress, when set, is called while a download runs.
	Progress func(Progress)
	// Client makes the downloads; nil means http.DefaultClient.
	Client *http.Client
	// SearchFrom lists folders whose ancestors may hold build/berth-os.iso.
	// Nil means the running executable's folder and the working folder.
	SearchFrom []string
	// Arch is the guest architecture whose ISO Default finds: amd64 (also
	// when empty) or arm64.
	Arch string
}

// Resolve returns a local file for source: "" means the default berth-os
// ISO (see Default); an http or https URL is downloaded once into the
// cache; anything else is a path that must exist.
func (c *Cache) Resolve(ctx context.Context, source string) (string, error) {
	switch {
	case source == "":
		return c.Default(ctx)
	case strings.HasPrefix(source, "http://"), strings.HasPrefix(source, "https://"):
		return c.Download(ctx, source)
	}
	abs, err := filepath.Abs(source)
	if err != nil {
		return "", fmt.Errorf("iso %s: %w", source, err)
	}
	// The file itself, not a symlink to it: drivers hard-link the ISO into
	// the machine's folder, and a link to a relative symlink dangles.
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if err := checkISO(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// Default finds the berth-os ISO of c.Arch without being told where:
// $BERTH_ISO, then build/berth-os-ARCH.iso of the repository the
// executable or the working folder lies in (copied into the cache under
// its version), then the ISO embedded in this berth, then the newest
// berth-os ISO in the cache, then a download of $BERTH_ISO_URL, else of
// the ISO released with this berth's version (ReleaseURL).
func (c *Cache) Default(ctx context.Context) (string, error) {
	if p := os.Getenv("BERTH_ISO"); p != "" {
		return c.Resolve(ctx, p)
	}
	if built := c.findBuild(); built != "" {
		return c.Import(built)
	}
	if emb, err := c.embedded(); err != nil || emb != "" {
		return emb, err
	}
	if cached, err := c.newest(); err != nil || cached != "" {
		return cached, err
	}
	if u := os.Getenv("BERTH_ISO_URL"); u != "" {
		return c.Download(ctx, u)
	}
	p, err := c.Download(ctx, ReleaseURL(c.Arch))
	if err != nil {
		return "", fmt.Errorf("%w; downloading the one released with this berth failed: %w", ErrNoISO, err)
	}
	return p, nil
}

// findBuild looks for the ISO of c.Arch under build/ above the search
// folders (build/berth-os-ARCH.iso, or build/berth-os.iso for amd64).
func (c *Cache) findBuild() string {
	from := c.SearchFrom
	if from == nil {
		if exe, err := os.Executable(); err == nil {
			if real, err := filepath.EvalSymlinks(exe); err == nil {
				exe = real
			}
			from = append(from, filepath.Dir(exe))
		}
		if wd, err := os.Getwd(); err == nil {
			from = append(from, wd)
		}
	}
	for _, dir := range from {
		for {
			for _, rel := range c.buildPaths() {
				p := filepath.Join(dir, rel)
				if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
					return p
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

func (c *Cache) buildPaths() []string {
	if archOr(c.Arch) == "amd64" {
		return []string{BuildPathOf("amd64"), BuildPath}
	}
	return []string{BuildPathOf(c.Arch)}
}

// newest returns the cached berth-os ISO of c.Arch with the highest
// version, or "".
func (c *Cache) newest() (string, error) {
	all, err := filepath.Glob(filepath.Join(c.Dir, "berth-os-*.iso"))
	if err != nil {
		return "", err
	}
	var names []string
	for _, n := range all {
		if ArchOf(strings.TrimSuffix(filepath.Base(n), ".iso")) == archOr(c.Arch) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	sort.Slice(names, func(i, j int) bool {
		return versionLess(versionOf(names[i]), versionOf(names[j]))
	})
	return names[len(names)-1], nil
}

// checkISO says clearly when path is not an ISO file.
func checkISO(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("iso %s does not exist: %w", path, ErrNoISO)
	}
	if err != nil {
		return fmt.Errorf("iso %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("iso %s is not a file", path)
	}
	return nil
}
