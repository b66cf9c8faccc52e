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
	"strconv"
	"strings"

	"github.com/berthvm/berth/runtime/archive"
	"github.com/berthvm/berth/runtime/image"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"golang.org/x/sys/unix"
)

// source is one thing a COPY or ADD puts into the image.
type source struct {
	root    int    // descriptor its path is resolved in
	rel     string // its path in root ("/" for all of it)
	name    string // its name when copied into a directory
	isDir   bool
	archive bool // ADD: a tar archive to extract
	key     string
}

// copyCommand runs COPY.
func (r *run) copyCommand(st *state, c *instructions.CopyCommand) error {
	if c.Parents || len(c.ExcludePatterns) > 0 {
		return badRequest("%s:%d: COPY --parents and --exclude are not supported by berth's builder", r.df.name, lineOf(c))
	}
	if len(c.SourceContents) > 0 {
		return badRequest("%s:%d: COPY with a heredoc is not supported by berth's builder", r.df.name, lineOf(c))
	}
	var srcs []source
	var fromKey string
	if c.From != "" {
		from, err := r.expand(c.From, stageEnv(st))
		if err != nil {
			return badRequest("%s:%d: COPY --from: %v", r.df.name, lineOf(c), err)
		}
		fst, err := r.fromState(from)
		if err != nil {
			return err
		}
		root, err := r.readOnlyRoot(fst)
		if err != nil {
			return err
		}
		defer unix.Close(root)
		fromKey = fst.key()
		for _, p := range c.SourcePaths {
			rel := path.Clean("/" + p)
			sst, err := statIn(root, rel)
			if err != nil {
				return badRequest("%s:%d: COPY failed: stat %s in %s: file does not exist", r.df.name, lineOf(c), p, from)
			}
			srcs = append(srcs, source{root: root, rel: rel, name: path.Base(rel), isDir: sst.Mode&unix.S_IFMT == unix.S_IFDIR, key: fst.key() + rel})
		}
	} else {
		var err error
		if srcs, err = r.contextSources("COPY", c, c.SourcePaths); err != nil {
			return err
		}
	}
	return r.copyInto(st, "COPY", c, srcs, c.DestPath, c.Chown, c.Chmod, fromKey)
}

// fromState is the state COPY --from names: an earlier stage (by name
// or index) or an image.
func (r *run) fromState(from string) (*state, error) {
	if j, ok := r.df.stageIndex(from); ok && j < len(r.built) {
		return r.built[j], nil
	}
	if n, err := strconv.Atoi(from); err == nil {
		if n >= 0 && n < len(r.built) {
			return r.built[n], nil
		}
		return nil, badRequest("COPY --from=%d: there is no earlier stage %d", n, n)
	}
	return r.baseImage(from)
}

// contextSources resolves source paths (wildcards allowed) in the
// build context.
func (r *run) contextSources(what string, c instructions.Command, paths []string) ([]source, error) {
	var srcs []source
	for _, p := range paths {
		clean := path.Clean(p)
		if strings.HasPrefix(clean, "../") || clean == ".." {
			return nil, badRequest("%s:%d: %s failed: forbidden path outside the build context: %s", r.df.name, lineOf(c), what, p)
		}
		rels := []string{cleanRel(p)}
		if strings.ContainsAny(p, "*?[") {
			m, err := r.bc.match(p)
			if err != nil {
				return nil, err
			}
			if len(m) == 0 {
				return nil, badRequest("%s:%d: %s failed: no source files were specified (%s matches nothing in the build context)", r.df.name, lineOf(c), what, p)
			}
			rels = m
		}
		for _, rel := range rels {
			sum, ok := r.bc.digest(rel)
			if !ok {
				return nil, badRequest("%s:%d: %s failed: file not found in build context or excluded by .dockerignore: stat %s: file does not exist", r.df.name, lineOf(c), what, p)
			}
			sst, err := statIn(r.bc.root, rel)
			if err != nil {
				return nil, badRequest("%s:%d: %s failed: stat %s: %v", r.df.name, lineOf(c), what, p, err)
			}
			isDir := sst.Mode&unix.S_IFMT == unix.S_IFDIR
			if sst.Mode&unix.S_IFMT == unix.S_IFLNK && isDirIn(r.bc.root, rel) {
				isDir = true
			}
			abs := "/" + rel
			if rel == "." {
				abs = "/"
			}
			srcs = append(srcs, source{root: r.bc.root, rel: abs, name: path.Base("/" + rel), isDir: isDir, key: rel + "=" + sum})
		}
	}
	return srcs, nil
}

// destPath makes dest absolute (relative to WORKDIR), keeping a
// trailing slash.
func destPath(st *state, dest string) string {
	dir := strings.HasSuffix(dest, "/") || strings.HasSuffix(dest, "/.") || dest == "."
	if !path.IsAbs(dest) {
		wd := st.img.Config.WorkingDir
		if wd == "" {
			wd = "/"
		}
		dest = path.Join(wd, dest)
	}
	dest = path.Clean(dest)
	if dir && dest != "/" {
		dest += "/"
	}
	return dest
}

// copyInto runs a COPY or ADD of srcs to dest as one step.
func (r *run) copyInto(st *state, what string, c instructions.Command, srcs []source, dest, chown, chmod, fromKey string) error {
	dest = destPath(st, dest)
	destIsDir := strings.HasSuffix(dest, "/")
	if len(srcs) > 1 && !destIsDir {
		return badRequest("%s:%d: When using %s with more than one source file, the destination must be a directory and end with a /", r.df.name, lineOf(c), what)
	}
	var mode *uint32
	if chmod != "" {
		m, err := strconv.ParseUint(chmod, 8, 32)
		if err != nil || m > 0o7777 {
			return badRequest("%s:%d: %s --chmod=%s: give an octal mode such as 0755", r.df.name, lineOf(c), what, chmod)
		}
		mm := uint32(m)
		mode = &mm
	}
	parts := []string{strings.ToLower(what), dest, "chown=" + chown, "chmod=" + chmod, "from=" + fromKey}
	var kind string
	for _, s := range srcs {
		parts = append(parts, fmt.Sprintf("%s archive=%v", s.key, s.archive))
	}
	sum := image.CacheKey(parts[5:]...)
	switch {
	case len(srcs) > 1:
		kind = "multi:" + strings.TrimPrefix(sum, "sha256:")
	case srcs[0].isDir:
		kind = "dir:" + strings.TrimPrefix(sum, "sha256:")
	default:
		kind = "file:" + strings.TrimPrefix(sum, "sha256:")
	}
	key := image.CacheKey(append([]string{st.key()}, parts...)...)
	if ok, err := r.cached(st, key); ok || err != nil {
		return err
	}
	l, release, err := r.inOverlay(st, func(root int) error {
		owner, err := resolveOwner(root, chown)
		if err != nil {
			return badRequest("%s:%d: %s --chown=%s: %v", r.df.name, lineOf(c), what, chown, err)
		}
		for _, s := range srcs {
			if err := r.put(root, s, dest, destIsDir, owner, mode); err != nil {
				if errors.Is(err, ErrBadRequest) {
					return err
				}
				return fmt.Errorf("%s %s: %w", what, s.rel, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if release != nil {
		defer release()
	}
	return r.commit(st, key, st.copyImage(), nop(st, fmt.Sprintf("%s %s in %s ", what, kind, dest)), l)
}

// put copies (or, for an ADD archive, extracts) s to dest in root.
func (r *run) put(root int, s source, dest string, destIsDir bool, owner *[2]int, mode *uint32) error {
	if s.archive {
		if err := mkdirAllIn(root, dest); err != nil {
			return err
		}
		f, err := openIn(s.root, s.rel, unix.O_RDONLY)
		if err != nil {
			return err
		}
		file := os.NewFile(uintptr(f), s.rel)
		defer file.Close()
		plain, closeFn, err := decompress(file)
		if err != nil {
			return err
		}
		defer closeFn()
		return r.extract(root, path.Clean(dest), plain, owner, mode)
	}
	var p, name, dir string
	switch {
	case s.isDir:
		p, name, dir = strings.TrimSuffix(s.rel, "/")+"/.", "", path.Clean(dest)
		if s.rel == "/" {
			p = "/"
		}
	case destIsDir || isDirIn(root, dest):
		p, name, dir = s.rel, s.name, path.Clean(dest)
	default:
		p, name, dir = s.rel, path.Base(dest), path.Dir(dest)
	}
	if err := mkdirAllIn(root, dir); err != nil {
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(archive.Write(r.ctx, pw, s.root, p, name)) }()
	defer pr.Close()
	if owner == nil {
		owner = &[2]int{0, 0}
	}
	return r.extract(root, dir, pr, owner, mode)
}

// extract unpacks the tar stream in into dir of root, with owner and
// mode (when set) given to every entry.
func (r *run) extract(root int, dir string, in io.Reader, owner *[2]int, mode *uint32) error {
	if mode != nil {
		in = withMode(r.ctx, in, *mode)
	}
	err := archive.Extract(r.ctx, root, dir, in, archive.ExtractOptions{Owner: owner})
	if errors.Is(err, archive.ErrRefused) || errors.Is(err, archive.ErrNotDir) {
		return badRequest("%v", err)
	}
	return err
}

// withMode rewrites the permission bits of every entry but symlinks.
func withMode(ctx context.Context, in io.Reader, mode uint32) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(in), tar.NewWriter(pw)
		for {
			if err := ctx.Err(); err != nil {
				pw.CloseWithError(err)
				return
			}
			hdr, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			if hdr.Typeflag != tar.TypeSymlink {
				hdr.Mode = hdr.Mode&^0o7777 | int64(mode)
			}
			if err := tw.WriteHeader(hdr); err != nil {
				pw.CloseWithError(err)
				return
			}
			if _, err := io.Copy(tw, tr); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

// resolveOwner turns --chown's user[:group] into IDs, names looked up
// in the image's /etc/passwd and /etc/group; nil when chown is empty.
func resolveOwner(root int, chown string) (*[2]int, error) {
	if chown == "" {
		return nil, nil
	}
	u, g, hasGroup := strings.Cut(chown, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(u); err == nil {
		uid, gid = n, n
	} else {
		rec, ok := lookupDB(root, "/etc/passwd", u)
		if !ok {
			return nil, fmt.Errorf("unable to find user %s: no matching entries in passwd file", u)
		}
		uid, _ = strconv.Atoi(rec[2])
		gid, _ = strconv.Atoi(rec[3])
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else {
			rec, ok := lookupDB(root, "/etc/group", g)
			if !ok {
				return nil, fmt.Errorf("unable to find group %s: no matching entries in group file", g)
			}
			gid, _ = strconv.Atoi(rec[2])
		}
	}
	if uid < 0 || gid < 0 {
		return nil, fmt.Errorf("invalid owner %q", chown)
	}
	return &[2]int{uid, gid}, nil
}

// lookupDB finds name in a passwd-format file of root.
func lookupDB(root int, file, name string) ([]string, bool) {
	fd, err := openIn(root, file, unix.O_RDONLY)
	if err != nil {
		return nil, false
	}
	f := os.NewFile(uintptr(fd), file)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rec := strings.Split(sc.Text(), ":")
		if len(rec) >= 3 && rec[0] == name {
			for len(rec) < 4 {
				rec = append(rec, "0")
			}
			return rec, true
		}
	}
	return nil, false
}

// sha256File is the digest of a file's content.
func sha256File(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
