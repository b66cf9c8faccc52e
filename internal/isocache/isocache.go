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

// BuildPath is where `make iso` writes the ISO, relative to the repository.
const BuildPath = "build/berth-os.iso"

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
	if err := checkISO(abs); err != nil {
		return "", err
	}
	return abs, nil
}

// Default finds the berth-os ISO without being told where: $BERTH_ISO, then
// build/berth-os.iso of the repository the executable or the working
// folder lies in (copied into the cache under its version), then the
// newest berth-os ISO in the cache, then a download of $BERTH_ISO_URL.
func (c *Cache) Default(ctx context.Context) (string, error) {
	if p := os.Getenv("BERTH_ISO"); p != "" {
		return c.Resolve(ctx, p)
	}
	if built := c.findBuild(); built != "" {
		return c.Import(built)
	}
	if cached, err := c.newest(); err != nil || cached != "" {
		return cached, err
	}
	if u := os.Getenv("BERTH_ISO_URL"); u != "" {
		return c.Download(ctx, u)
	}
	return "", ErrNoISO
}

// findBuild looks for build/berth-os.iso above the search folders.
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
			p := filepath.Join(dir, BuildPath)
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				return p
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

// newest returns the cached berth-os ISO with the highest version, or "".
func (c *Cache) newest() (string, error) {
	names, err := filepath.Glob(filepath.Join(c.Dir, "berth-os-*.iso"))
	if err != nil || len(names) == 0 {
		return "", err
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
