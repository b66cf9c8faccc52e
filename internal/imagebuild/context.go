// Package imagebuild sends a build to a machine's agent for berth build:
// the context folder tarred on this host with its .dockerignore applied,
// a progress line while it goes, the build's output, the image ID.
package imagebuild

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// ErrNoDockerfile: the Dockerfile named (or the default one) is missing.
var ErrNoDockerfile = errors.New("no Dockerfile")

// WriteContext writes the build context dir to w as a tar stream,
// leaving out what dir/.dockerignore excludes (the Dockerfile and
// .dockerignore are always sent). dockerfile is the -f path as given
// ("" for dir/Dockerfile); a Dockerfile outside dir is sent under a
// name of its own. It returns the Dockerfile's name in the context.
func WriteContext(ctx context.Context, w io.Writer, dir, dockerfile string) (string, error) {
	dfPath, dfName, err := locateDockerfile(dir, dockerfile)
	if err != nil {
		return "", err
	}
	pm, err := ignoreMatcher(dir)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(w)
	keep := map[string]bool{filepath.ToSlash(dfName): true, ".dockerignore": true}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		if pm != nil && !keep[rel] {
			m, err := pm.MatchesOrParentMatches(rel)
			if err != nil {
				return err
			}
			if m {
				// An excluded folder is still walked when an exception
				// (!pattern) may take something in it back.
				if d.IsDir() && !pm.Exclusions() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		return addFile(tw, p, rel)
	})
	if err != nil {
		return "", fmt.Errorf("send build context %s: %w", dir, err)
	}
	if dfPath != "" {
		if err := addFile(tw, dfPath, dfName); err != nil {
			return "", fmt.Errorf("send Dockerfile %s: %w", dfPath, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	return dfName, nil
}

// locateDockerfile returns the Dockerfile's name in the context and, for
// one outside the context, its path on this host.
func locateDockerfile(dir, dockerfile string) (outside, name string, err error) {
	if dockerfile == "" {
		p := filepath.Join(dir, "Dockerfile")
		if _, err := os.Stat(p); err != nil {
			return "", "", fmt.Errorf("%w in %s: give one with -f", ErrNoDockerfile, dir)
		}
		return "", "Dockerfile", nil
	}
	abs, err := filepath.Abs(dockerfile)
	if err != nil {
		return "", "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", "", fmt.Errorf("%w: %s: %v", ErrNoDockerfile, dockerfile, err)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", "", err
	}
	rel, err := filepath.Rel(absDir, abs)
	if err == nil && !strings.HasPrefix(rel, "..") {
		return "", filepath.ToSlash(rel), nil
	}
	sum := sha256.Sum256([]byte(abs))
	return abs, ".dockerfile." + hex.EncodeToString(sum[:8]), nil
}

func ignoreMatcher(dir string) (*patternmatcher.PatternMatcher, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read .dockerignore: %w", err)
	}
	if len(patterns) == 0 {
		return nil, nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return nil, fmt.Errorf(".dockerignore: %w", err)
	}
	return pm, nil
}

// addFile writes one file, folder or symlink of the host as name.
func addFile(tw *tar.Writer, p, name string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if fi.Mode()&os.ModeSymlink != 0 {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if fi.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	// The context's owners on this host mean nothing on the machine.
	hdr.Uid, hdr.Gid = 0, 0
	hdr.Format = tar.FormatPAX
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, fi.Size())
	return err
}
