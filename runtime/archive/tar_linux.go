package archive

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Write writes p of the container whose root directory is the descriptor
// root to w as a tar stream, its entries named from name, or from p's
// last element when name is "" (as GET /containers/{id}/archive does;
// "/" archives what the root holds, unprefixed, as export does).
// Symlinks are archived as symlinks, never followed; every file is
// opened without following one.
func Write(ctx context.Context, w io.Writer, root int, p, name string) error {
	abs := absPath(p)
	dir, base := splitPath(abs)
	dfd, err := openDir(root, dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	tw := &tarWriter{ctx: ctx, tw: tar.NewWriter(w), links: map[[2]uint64]string{}}
	switch {
	case name == "" && abs == "/":
		err = tw.children(dfd, "")
	case name == "":
		err = tw.entry(dfd, base, baseName(abs))
	default:
		err = tw.entry(dfd, base, name)
	}
	if err != nil {
		return err
	}
	return tw.tw.Close()
}

// children archives what the directory dfd holds, named under prefix.
func (t *tarWriter) children(dfd int, prefix string) error {
	fd, err := unix.Openat(dfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", prefix, err)
	}
	f := os.NewFile(uintptr(fd), prefix)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Strings(names)
	for _, n := range names {
		child := n
		if prefix != "" {
			child = prefix + "/" + n // not path.Join: "./x" keeps its "./"
		}
		if err := t.entry(int(f.Fd()), n, child); err != nil {
			return err
		}
	}
	return nil
}

type tarWriter struct {
	ctx   context.Context
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, inode) -> first name, for hardlinks
}

// entry archives base of the directory dfd ("" or "." for dfd itself)
// under name.
func (t *tarWriter) entry(dfd int, base, name string) error {
	if err := t.ctx.Err(); err != nil {
		return err
	}
	st, err := lstat(dfd, base)
	if err != nil {
		return fmt.Errorf("stat %s: %w", name, err)
	}
	hdr := &tar.Header{
		Name:    name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()).Truncate(time.Second),
		Format:  tar.FormatPAX,
	}
	open := func(flags int) (*os.File, error) {
		b := base
		if b == "" {
			b = "."
		}
		fd, err := unix.Openat(dfd, b, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", name, err)
		}
		return os.NewFile(uintptr(fd), name), nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
		f, err := open(unix.O_RDONLY | unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		return t.children(int(f.Fd()), name)
	case unix.S_IFLNK:
		hdr.Typeflag = tar.TypeSymlink
		if hdr.Linkname, err = readlinkAt(dfd, base); err != nil {
			return err
		}
		return t.tw.WriteHeader(hdr)
	case unix.S_IFREG:
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := t.links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return t.tw.WriteHeader(hdr)
		}
		f, err := open(unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer f.Close()
		var fst unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &fst); err != nil || fst.Ino != st.Ino || fst.Dev != st.Dev {
			return fmt.Errorf("archive %s: it changed while it was read", name)
		}
		if st.Nlink > 1 {
			t.links[key] = name
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, fst.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.CopyN(t.tw, f, fst.Size); err != nil {
			return fmt.Errorf("archive %s: %w", name, err)
		}
		return nil
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	default:
		return nil // sockets have no place in a tar stream
	}
	return t.tw.WriteHeader(hdr)
}
