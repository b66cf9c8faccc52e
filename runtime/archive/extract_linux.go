package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/berthvm/berth/runtime/layer"
	"golang.org/x/sys/unix"
)

// ExtractOptions are PUT /containers/{id}/archive's query parameters.
type ExtractOptions struct {
	// NoOverwriteDirNonDir refuses to replace a directory by a
	// non-directory and the reverse.
	NoOverwriteDirNonDir bool
	// Owner, when set, owns every entry instead of the tar's uid/gid
	// (copyUIDGID: the container's user).
	Owner *[2]int
}

// Extract unpacks the tar stream r into the directory dst of the
// container whose root directory is the descriptor root. Every entry's
// parent is resolved inside the root (symlinks included, as a chroot
// would), the entry itself is never followed, and names or hardlinks that
// leave dst are refused. Modes, owners and modification times are kept.
func Extract(ctx context.Context, root int, dst string, r io.Reader, opts ExtractOptions) error {
	dst = path.Clean("/" + dst)
	dfd, err := openDir(root, dst)
	if err != nil {
		return err
	}
	unix.Close(dfd)
	x := &extractor{root: root, dst: dst, opts: opts}
	tr := tar.NewReader(r)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			return fmt.Errorf("extract %q: %w", hdr.Name, err)
		}
	}
	return x.finish()
}

type extractor struct {
	root int
	dst  string
	opts ExtractOptions
	dirs []*tar.Header // directory times, set last
}

// target is where an entry name lands, as a path in the container.
func (x *extractor) target(name string) (string, error) {
	rel, ok := entryName(name)
	if !ok {
		return "", fmt.Errorf("%w: the name leaves the extraction point", ErrRefused)
	}
	return path.Join(x.dst, rel), nil
}

// parent opens the directory holding p, making missing directories.
func (x *extractor) parent(p string) (int, string, error) {
	dir, base := path.Split(p)
	fd, err := x.mkdirAll(dir)
	return fd, base, err
}

func (x *extractor) mkdirAll(dir string) (int, error) {
	fd, err := openDir(x.root, dir)
	if !errors.Is(err, ErrNotFound) {
		return fd, err
	}
	pfd, err := x.mkdirAll(path.Dir(path.Clean(dir)))
	if err != nil {
		return -1, err
	}
	err = unix.Mkdirat(pfd, path.Base(dir), 0o755)
	unix.Close(pfd)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("make %s: %w", dir, err)
	}
	return openDir(x.root, dir)
}

func (x *extractor) owner(hdr *tar.Header) (int, int) {
	if x.opts.Owner != nil {
		return x.opts.Owner[0], x.opts.Owner[1]
	}
	return hdr.Uid, hdr.Gid
}

func (x *extractor) entry(hdr *tar.Header, body io.Reader) error {
	p, err := x.target(hdr.Name)
	if err != nil {
		return err
	}
	if p == x.dst {
		if hdr.Typeflag == tar.TypeDir {
			return nil // the extraction point itself
		}
		return fmt.Errorf("%w: a non-directory in place of the extraction point", ErrRefused)
	}
	pfd, base, err := x.parent(p)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	isDir := hdr.Typeflag == tar.TypeDir
	keep, err := x.clear(pfd, base, isDir)
	if err != nil {
		return err
	}
	uid, gid := x.owner(hdr)
	perm := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeDir:
		if !keep {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
				return err
			}
		}
		x.dirs = append(x.dirs, &tar.Header{Name: p, ModTime: hdr.ModTime, AccessTime: hdr.AccessTime})
	case tar.TypeReg:
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), base)
		_, err = io.Copy(f, body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return err
		}
		if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		return setTimes(pfd, base, hdr)
	case tar.TypeLink:
		return x.hardlink(pfd, base, hdr.Linkname)
	case tar.TypeFifo, tar.TypeChar, tar.TypeBlock:
		kind := map[byte]uint32{tar.TypeFifo: unix.S_IFIFO, tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK}[hdr.Typeflag]
		if err := unix.Mknodat(pfd, base, kind|perm, int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))); err != nil {
			return err
		}
	case tar.TypeXGlobalHeader:
		return nil
	default:
		return fmt.Errorf("%w: unsupported entry type %q", ErrRefused, string(hdr.Typeflag))
	}
	return setMeta(pfd, base, hdr, uid, gid, perm, !isDir)
}

// setMeta sets owner, mode and (unless a directory's, set at the end)
// times of the entry just made, through a descriptor opened without
// following a symlink, so that one raced in its place is not followed.
func setMeta(pfd int, base string, hdr *tar.Header, uid, gid int, perm uint32, times bool) error {
	fd, err := unix.Openat(pfd, base, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return fmt.Errorf("%w: replaced by a symlink while it was extracted", ErrRefused)
	}
	// Owner first: chown clears the set-id bits chmod then sets.
	if err := unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH); err != nil {
		return err
	}
	self := fmt.Sprintf("/proc/self/fd/%d", fd)
	if err := unix.Chmod(self, perm); err != nil {
		return err
	}
	if !times {
		return nil
	}
	return unix.UtimesNanoAt(unix.AT_FDCWD, self, timespecs(hdr), 0)
}

// clear removes what stands at base, unless both it and the entry are
// directories (then it is kept: the tar's entries merge into it).
func (x *extractor) clear(pfd int, base string, isDir bool) (bool, error) {
	st, err := lstat(pfd, base)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	wasDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	switch {
	case wasDir && isDir:
		return true, nil
	case x.opts.NoOverwriteDirNonDir && wasDir:
		return false, fmt.Errorf("%w: cannot overwrite directory %q with non-directory", ErrRefused, base)
	case x.opts.NoOverwriteDirNonDir && isDir:
		return false, fmt.Errorf("%w: cannot overwrite non-directory %q with directory", ErrRefused, base)
	}
	return false, layer.RemoveAllAt(pfd, base)
}

// hardlink links base to target (an entry name, inside the extraction
// point), never following a symlink at the target.
func (x *extractor) hardlink(pfd int, base, target string) error {
	p, err := x.target(target)
	if err != nil {
		return fmt.Errorf("hardlink: %w", err)
	}
	dir, tbase := splitPath(p)
	dfd, err := openDir(x.root, dir)
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return unix.Linkat(dfd, tbase, pfd, base, 0)
}

func timespecs(hdr *tar.Header) []unix.Timespec {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	return []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
}

// setTimes sets the times of base in pfd, a symlink's own included.
func setTimes(pfd int, base string, hdr *tar.Header) error {
	return unix.UtimesNanoAt(pfd, base, timespecs(hdr), unix.AT_SYMLINK_NOFOLLOW)
}

// finish sets directory times, deepest first: writing into a directory
// changes its time.
func (x *extractor) finish() error {
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		dir, base := splitPath(d.Name)
		pfd, err := openDir(x.root, dir)
		if err != nil {
			return err
		}
		err = setTimes(pfd, base, d)
		unix.Close(pfd)
		if err != nil {
			return fmt.Errorf("set times of %s: %w", d.Name, err)
		}
	}
	return nil
}
