package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sys/unix"
)

func newGzipReader(r io.Reader) (io.ReadCloser, error) { return gzip.NewReader(r) }

// addCommand runs ADD: like COPY, plus local tar archives extracted and
// URLs fetched (checked against --checksum when given).
func (r *run) addCommand(st *state, c *instructions.AddCommand) error {
	if len(c.ExcludePatterns) > 0 {
		return badRequest("%s:%d: ADD --exclude is not supported by berth's builder", r.df.name, lineOf(c))
	}
	if len(c.SourceContents) > 0 {
		return badRequest("%s:%d: ADD with a heredoc is not supported by berth's builder", r.df.name, lineOf(c))
	}
	var local []string
	var srcs []source
	for _, p := range c.SourcePaths {
		if isGit(p) {
			return badRequest("%s:%d: ADD of a git repository (%s) is not supported by berth's builder: clone it into the build context and COPY it", r.df.name, lineOf(c), p)
		}
		if strings.HasPrefix(p, "http://") || strings.HasPrefix(p, "https://") {
			s, err := r.fetch(c, p, c.Checksum)
			if err != nil {
				return err
			}
			srcs = append(srcs, s)
			continue
		}
		local = append(local, p)
	}
	if len(local) > 0 && c.Checksum != "" {
		return badRequest("%s:%d: ADD --checksum applies to URLs only", r.df.name, lineOf(c))
	}
	ctxSrcs, err := r.contextSources("ADD", c, local)
	if err != nil {
		return err
	}
	for i := range ctxSrcs {
		s := &ctxSrcs[i]
		if s.isDir || (c.Unpack != nil && !*c.Unpack) {
			continue
		}
		s.archive = isArchive(s.root, s.rel)
	}
	srcs = append(srcs, ctxSrcs...)
	return r.copyInto(st, "ADD", c, srcs, c.DestPath, c.Chown, c.Chmod, "")
}

func isGit(p string) bool {
	return strings.HasPrefix(p, "git@") || strings.HasPrefix(p, "git://") || strings.HasSuffix(strings.SplitN(p, "#", 2)[0], ".git")
}

// fetch downloads an ADD URL into the build folder.
func (r *run) fetch(c instructions.Command, raw, checksum string) (source, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return source{}, badRequest("%s:%d: ADD %s: %v", r.df.name, lineOf(c), raw, err)
	}
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		return source{}, badRequest("%s:%d: ADD %s: cannot determine a file name from the URL: give the destination file name", r.df.name, lineOf(c), raw)
	}
	dir, err := os.MkdirTemp(r.work, "url-")
	if err != nil {
		return source{}, err
	}
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, raw, nil)
	if err != nil {
		return source{}, badRequest("ADD %s: %v", raw, err)
	}
	r.out.Stream("Downloading " + raw + "\n")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return source{}, badRequest("%s:%d: ADD %s: the agent could not fetch it: %v", r.df.name, lineOf(c), raw, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return source{}, badRequest("%s:%d: ADD %s: the server answered %s", r.df.name, lineOf(c), raw, resp.Status)
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return source{}, err
	}
	defer f.Close()
	if _, err := io.Copy(f, resp.Body); err != nil {
		return source{}, fmt.Errorf("ADD %s: download: %w", raw, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return source{}, err
	}
	sum, err := sha256File(f)
	if err != nil {
		return source{}, err
	}
	if checksum != "" && checksum != sum {
		return source{}, badRequest("%s:%d: ADD %s: the file's checksum is %s, --checksum says %s", r.df.name, lineOf(c), raw, sum, checksum)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		os.Chtimes(p, lm, lm)
	} else {
		t := time.Unix(0, 0)
		os.Chtimes(p, t, t)
	}
	root, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return source{}, err
	}
	r.holds = append(r.holds, func() { unix.Close(root) })
	return source{root: root, rel: "/" + name, name: name, key: raw + "=" + sum}, nil
}

// isArchive reports whether the file is a tar archive, plain or
// compressed (gzip, bzip2, zstd).
func isArchive(root int, rel string) bool {
	fd, err := openIn(root, rel, unix.O_RDONLY)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	plain, closeFn, err := decompress(f)
	if err != nil {
		return false
	}
	defer closeFn()
	_, err = tar.NewReader(plain).Next()
	return err == nil
}

// decompress opens a stream compressed with gzip, bzip2 or zstd, or
// passes a plain one through.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), func() {}, nil
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}
