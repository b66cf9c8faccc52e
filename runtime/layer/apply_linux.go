package layer

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// applier writes entries below a root directory through file descriptors
// only: every parent is walked one component at a time with O_NOFOLLOW, so
// no symlink (planted by the layer or raced in) is ever followed.
type applier struct {
	root  int
	euid  int
	lim   Limits
	dirs  []dirTimes
	cache struct {
		dir string
		fd  int
	}
}

type dirTimes struct {
	name         string
	atime, mtime time.Time
}

func newApplier(dir string, lim Limits) (*applier, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open layer root %s: %w", dir, err)
	}
	a := &applier{root: fd, euid: os.Geteuid(), lim: lim}
	a.cache.fd = -1
	return a, nil
}

func (a *applier) close() {
	a.dropCache()
	unix.Close(a.root)
}

func (a *applier) dropCache() {
	if a.cache.fd >= 0 {
		unix.Close(a.cache.fd)
	}
	a.cache.fd, a.cache.dir = -1, ""
}

// parent returns an O_PATH descriptor of dir (relative to the root, "" for
// the root), creating missing directories when create is set. The caller
// must not close it.
func (a *applier) parent(dir string, create bool) (int, error) {
	if dir == "" || dir == "." {
		return a.root, nil
	}
	if a.cache.fd >= 0 && a.cache.dir == dir {
		return a.cache.fd, nil
	}
	fd, err := unix.Dup(a.root)
	if err != nil {
		return -1, err
	}
	walked := ""
	for _, c := range strings.Split(dir, "/") {
		walked = strings.TrimPrefix(walked+"/"+c, "/")
		next, err := unix.Openat(fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if errors.Is(err, unix.ENOENT) && create {
			if err = unix.Mkdirat(fd, c, 0o755); err == nil || errors.Is(err, unix.EEXIST) {
				next, err = unix.Openat(fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			}
		}
		if err != nil {
			unix.Close(fd)
			if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
				var st unix.Stat_t
				if unix.Fstatat(a.root, walked, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
					return -1, refuse("parent %q is a symlink", walked)
				}
				return -1, refuse("parent %q is not a directory", walked)
			}
			return -1, fmt.Errorf("open parent %q: %w", walked, err)
		}
		unix.Close(fd)
		fd = next
	}
	a.dropCache()
	a.cache.dir, a.cache.fd = dir, fd
	return fd, nil
}

func split(name string) (dir, base string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return "", name
	}
	return name[:i], name[i+1:]
}

// clear removes what stands at base in pfd, unless keepDir and it is a
// directory; it reports whether a directory was kept.
func (a *applier) clear(pfd int, base string, keepDir bool) (bool, error) {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.ENOENT) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat existing: %w", err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if keepDir {
			return true, nil
		}
		a.dropCache()
		return false, RemoveAllAt(pfd, base)
	}
	if err := unix.Unlinkat(pfd, base, 0); err != nil {
		return false, fmt.Errorf("remove existing: %w", err)
	}
	return false, nil
}

// RemoveAllAt removes base in the directory pfd and, for a directory, all it holds,
// without following symlinks.
func RemoveAllAt(pfd int, base string) error {
	err := unix.Unlinkat(pfd, base, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %q to remove it: %w", base, err)
	}
	f := os.NewFile(uintptr(fd), base)
	names, err := f.Readdirnames(-1)
	if err != nil {
		f.Close()
		return fmt.Errorf("list %q to remove it: %w", base, err)
	}
	for _, n := range names {
		if err := RemoveAllAt(int(f.Fd()), n); err != nil {
			f.Close()
			return err
		}
	}
	f.Close()
	if err := unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR); err != nil {
		return fmt.Errorf("remove directory %q: %w", base, err)
	}
	return nil
}

func (a *applier) mkdir(name string, hdr *tar.Header) error {
	var fd int
	if name == "." {
		var err error
		if fd, err = unix.Dup(a.root); err != nil {
			return err
		}
	} else {
		dir, base := split(name)
		pfd, err := a.parent(dir, true)
		if err != nil {
			return err
		}
		kept, err := a.clear(pfd, base, true)
		if err != nil {
			return err
		}
		if !kept {
			if err := unix.Mkdirat(pfd, base, 0o700); err != nil {
				return fmt.Errorf("create directory: %w", err)
			}
		}
		fd, err = unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open directory: %w", err)
		}
	}
	defer unix.Close(fd)
	if err := a.meta(fd, hdr); err != nil {
		return err
	}
	a.dirs = append(a.dirs, dirTimes{name, hdr.AccessTime, hdr.ModTime})
	return nil
}

func (a *applier) file(name string, hdr *tar.Header, body io.Reader) error {
	if hdr.Size < 0 || hdr.Size > a.lim.MaxBytes {
		return refuse("file of %d bytes is over the size limit", hdr.Size)
	}
	dir, base := split(name)
	if base == "" || name == "." {
		return refuse("regular file at the layer root")
	}
	pfd, err := a.parent(dir, true)
	if err != nil {
		return err
	}
	if _, err := a.clear(pfd, base, false); err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if _, err := io.CopyN(f, body, hdr.Size); err != nil {
		return fmt.Errorf("write file: %w", err)
	}
	if err := a.meta(fd, hdr); err != nil {
		return err
	}
	return setTimes(pfd, base, hdr)
}

// meta sets owner, mode and xattrs through an open descriptor.
func (a *applier) meta(fd int, hdr *tar.Header) error {
	if err := a.chown(func(uid, gid int) error { return unix.Fchown(fd, uid, gid) }, hdr); err != nil {
		return err
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for k, v := range hdr.PAXRecords {
		x, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || !allowedXattr(x) {
			continue
		}
		if err := unix.Fsetxattr(fd, x, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
			return fmt.Errorf("set xattr %s: %w", x, err)
		}
	}
	return nil
}

// allowedXattr keeps overlayfs's own trusted.overlay.* (and any other
// trusted.*) out of the layer's reach.
func allowedXattr(name string) bool {
	return strings.HasPrefix(name, "user.") || name == "security.capability"
}

func (a *applier) chown(do func(uid, gid int) error, hdr *tar.Header) error {
	if a.euid != 0 {
		return nil // unprivileged unpack keeps the caller's ownership
	}
	if hdr.Uid < 0 || hdr.Gid < 0 {
		return refuse("negative owner %d:%d", hdr.Uid, hdr.Gid)
	}
	if err := do(hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("chown %d:%d: %w", hdr.Uid, hdr.Gid, err)
	}
	return nil
}

func setTimes(pfd int, base string, hdr *tar.Header) error {
	at := hdr.AccessTime
	if at.IsZero() {
		at = hdr.ModTime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(at.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
	if err := unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times: %w", err)
	}
	return nil
}

func (a *applier) symlink(name string, hdr *tar.Header) error {
	dir, base := split(name)
	if name == "." {
		return refuse("symlink at the layer root")
	}
	pfd, err := a.parent(dir, true)
	if err != nil {
		return err
	}
	if _, err := a.clear(pfd, base, false); err != nil {
		return err
	}
	if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
		return fmt.Errorf("create symlink: %w", err)
	}
	if err := a.chown(func(uid, gid int) error {
		return unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
	}, hdr); err != nil {
		return err
	}
	return setTimes(pfd, base, hdr)
}

func (a *applier) hardlink(name, target string) error {
	if name == "." {
		return refuse("hardlink at the layer root")
	}
	tdir, tbase := split(target)
	tfd, err := a.parent(tdir, false)
	if err != nil {
		return fmt.Errorf("hardlink target %q: %w", target, err)
	}
	// Hold the target's parent while the link's parent is walked.
	tfd, err = unix.Dup(tfd)
	if err != nil {
		return err
	}
	defer unix.Close(tfd)
	var st unix.Stat_t
	if err := unix.Fstatat(tfd, tbase, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("hardlink target %q: %w", target, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return refuse("hardlink to directory %q", target)
	}
	if target == name {
		return nil
	}
	dir, base := split(name)
	pfd, err := a.parent(dir, true)
	if err != nil {
		return err
	}
	if _, err := a.clear(pfd, base, false); err != nil {
		return err
	}
	if err := unix.Linkat(tfd, tbase, pfd, base, 0); err != nil {
		return fmt.Errorf("create hardlink to %q: %w", target, err)
	}
	return nil
}

func (a *applier) special(name string, hdr *tar.Header) error {
	if name == "." {
		return refuse("special file at the layer root")
	}
	dir, base := split(name)
	pfd, err := a.parent(dir, true)
	if err != nil {
		return err
	}
	if _, err := a.clear(pfd, base, false); err != nil {
		return err
	}
	mode := uint32(hdr.Mode & 0o7777)
	var dev int
	switch hdr.Typeflag {
	case tar.TypeFifo:
		mode |= unix.S_IFIFO
	case tar.TypeChar:
		mode |= unix.S_IFCHR
		dev = int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
		dev = int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
	}
	if err := unix.Mknodat(pfd, base, mode, dev); err != nil {
		return fmt.Errorf("create special file: %w", err)
	}
	if err := a.chown(func(uid, gid int) error {
		return unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW)
	}, hdr); err != nil {
		return err
	}
	// The node was just made by us in a directory only we write, and it is
	// not a symlink, so fchmodat acts on it.
	if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode&0o7777), 0); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	return setTimes(pfd, base, hdr)
}

// whiteout records the deletion of dir/target as an overlayfs whiteout.
func (a *applier) whiteout(dir, target string) error {
	pfd, err := a.parent(dir, true)
	if err != nil {
		return err
	}
	if _, err := a.clear(pfd, target, false); err != nil {
		return err
	}
	if err := unix.Mknodat(pfd, target, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("create whiteout for %q: %w", target, err)
	}
	return nil
}

// opaque marks dir as hiding what lower layers hold in it.
func (a *applier) opaque(dir string) error {
	var fd int
	var err error
	if dir == "" {
		fd, err = unix.Dup(a.root)
	} else {
		d, base := split(dir)
		pfd, perr := a.parent(d, true)
		if perr != nil {
			return perr
		}
		if err := unix.Mkdirat(pfd, base, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create opaque directory: %w", err)
		}
		fd, err = unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		if errors.Is(err, unix.ENOTDIR) || errors.Is(err, unix.ELOOP) {
			return refuse("opaque marker in %q, which is not a directory", dir)
		}
		return fmt.Errorf("open opaque directory: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Fsetxattr(fd, "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		return fmt.Errorf("mark directory opaque: %w", err)
	}
	return nil
}

// finish sets directory times last, since writing entries changes them.
func (a *applier) finish() error {
	for i := len(a.dirs) - 1; i >= 0; i-- {
		d := a.dirs[i]
		hdr := &tar.Header{AccessTime: d.atime, ModTime: d.mtime}
		if d.name == "." {
			if err := setTimes(a.root, ".", hdr); err != nil {
				return &EntryError{d.name, err}
			}
			continue
		}
		dir, base := split(d.name)
		pfd, err := a.parent(dir, false)
		if err != nil {
			continue // replaced by a later entry
		}
		var st unix.Stat_t
		if unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			continue
		}
		if err := setTimes(pfd, base, hdr); err != nil {
			return &EntryError{d.name, err}
		}
	}
	return nil
}
