package build

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/berthvm/berth/runtime/archive"
	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"golang.org/x/sys/unix"
)

// buildContext is the build context unpacked on disk, with a digest of
// every entry taken while it was written (the cache keys of COPY and ADD
// are made from them).
type buildContext struct {
	dir  string
	root int // descriptor of dir: paths are resolved inside it
	// sums maps clean relative paths to their kind and digest ("d" for a
	// directory, "f <mode> <sha256>" for a file, "l <target>" for a
	// symlink).
	sums map[string]string
}

func (c *buildContext) close() {
	if c.root >= 0 {
		unix.Close(c.root)
		c.root = -1
	}
}

// receiveContext unpacks the tar stream r (plain or gzip) into dir, an
// empty folder, then applies the context's .dockerignore (the clients
// apply it already; files they sent anyway are dropped here). The
// Dockerfile and .dockerignore stay readable even when excluded.
func receiveContext(ctx context.Context, r io.Reader, dir, dockerfile string) (*buildContext, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("make context folder: %w", err)
	}
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open context folder: %w", err)
	}
	c := &buildContext{dir: dir, root: root, sums: map[string]string{}}
	br := bufio.NewReaderSize(r, 1<<16)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := newGzipReader(br)
		if err != nil {
			c.close()
			return nil, badRequest("the build context is not a tar stream: %v", err)
		}
		defer zr.Close()
		in = zr
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := archive.Extract(ctx, root, "/", pr, archive.ExtractOptions{Owner: &[2]int{0, 0}})
		pr.CloseWithError(err)
		done <- err
	}()
	err = c.copyHashing(ctx, in, pw)
	pw.CloseWithError(err)
	if xerr := <-done; err == nil && xerr != nil {
		err = xerr
	}
	if err != nil {
		c.close()
		if errors.Is(err, archive.ErrRefused) {
			return nil, badRequest("the build context holds an entry berth refuses: %v", err)
		}
		return nil, fmt.Errorf("receive the build context: %w", err)
	}
	if err := c.applyIgnore(dockerfile); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// copyHashing copies the tar stream in to w entry by entry, recording
// each entry's digest.
func (c *buildContext) copyHashing(ctx context.Context, in io.Reader, w io.Writer) error {
	tr := tar.NewReader(in)
	tw := tar.NewWriter(w)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return badRequest("the build context is not a valid tar stream: %v", err)
		}
		rel := cleanRel(hdr.Name)
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			h := sha256.New()
			if _, err := io.Copy(tw, io.TeeReader(tr, h)); err != nil {
				return err
			}
			c.sums[rel] = fmt.Sprintf("f %o %s", hdr.Mode&0o7777, hex.EncodeToString(h.Sum(nil)))
		case tar.TypeDir:
			c.sums[rel] = fmt.Sprintf("d %o", hdr.Mode&0o7777)
		case tar.TypeSymlink:
			c.sums[rel] = "l " + hdr.Linkname
		case tar.TypeLink:
			c.sums[rel] = c.sums[cleanRel(hdr.Linkname)]
		default:
			c.sums[rel] = fmt.Sprintf("%c %o", hdr.Typeflag, hdr.Mode)
		}
		for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := c.sums[d]; ok {
				break
			}
			c.sums[d] = "d 755"
		}
	}
	return tw.Close()
}

// cleanRel is a tar name as a clean path relative to the context root.
func cleanRel(name string) string {
	c := path.Clean("/" + name)
	if c == "/" {
		return "."
	}
	return c[1:]
}

// applyIgnore removes what .dockerignore excludes (but the Dockerfile
// and .dockerignore, which the build reads).
func (c *buildContext) applyIgnore(dockerfile string) error {
	f, err := os.Open(path.Join(c.dir, ".dockerignore"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read .dockerignore: %w", err)
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		return badRequest("read .dockerignore: %v", err)
	}
	if len(patterns) == 0 {
		return nil
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		return badRequest(".dockerignore: %v", err)
	}
	keep := map[string]bool{cleanRel(dockerfile): true, ".dockerignore": true}
	var rels []string
	for rel := range c.sums {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	var removed []string
	for _, rel := range rels {
		if keep[rel] || rel == "." {
			continue
		}
		if under(rel, removed) {
			delete(c.sums, rel)
			continue
		}
		m, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return badRequest(".dockerignore: %v", err)
		}
		if !m {
			continue
		}
		// A directory excluded while an exception keeps something in it
		// stays; only its other entries go.
		if strings.HasPrefix(c.sums[rel], "d") && pm.Exclusions() {
			continue
		}
		if err := os.RemoveAll(path.Join(c.dir, rel)); err != nil {
			return fmt.Errorf("apply .dockerignore: %w", err)
		}
		delete(c.sums, rel)
		removed = append(removed, rel)
	}
	return nil
}

func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// readFile reads a file of the context, resolved inside it.
func (c *buildContext) readFile(name string, max int64) ([]byte, error) {
	fd, err := unix.Openat2(c.root, cleanRel(name), &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, badRequest("%s is larger than %d bytes", name, max)
	}
	return b, nil
}

// digest is the cache digest of the context path rel and all it holds,
// or false when the context has no such path.
func (c *buildContext) digest(rel string) (string, bool) {
	rel = cleanRel(rel)
	if _, ok := c.sums[rel]; !ok && rel != "." {
		return "", false
	}
	var keys []string
	for k := range c.sums {
		if k == rel || rel == "." || strings.HasPrefix(k, rel+"/") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%s\n", strings.TrimPrefix(k, rel), c.sums[k])
	}
	return hex.EncodeToString(h.Sum(nil)), true
}

// match lists the context paths the wildcard pattern matches, sorted.
func (c *buildContext) match(pattern string) ([]string, error) {
	pattern = cleanRel(pattern)
	var out []string
	for k := range c.sums {
		ok, err := path.Match(pattern, k)
		if err != nil {
			return nil, badRequest("bad pattern %q: %v", pattern, err)
		}
		if ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out, nil
}
