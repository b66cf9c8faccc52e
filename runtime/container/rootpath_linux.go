package container

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// openInRoot opens name (a path inside the folder root) with every symlink
// resolved as if root were "/", so that a hostile image cannot point a
// mount target outside its root filesystem. When the path is missing it is
// created (a folder when dir, else an empty file) with its parents. The
// returned O_PATH descriptor names the target; mount onto fdPath(fd).
func openInRoot(rootFd int, name string, dir bool) (int, error) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return unix.Openat2(rootFd, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	}
	how := &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	fd, err := unix.Openat2(rootFd, name, how)
	if err == nil || !errors.Is(err, unix.ENOENT) {
		if err != nil {
			return -1, fmt.Errorf("open %s in container root: %w", name, err)
		}
		return fd, nil
	}
	parent, err := openInRoot(rootFd, path.Dir(name), true)
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)
	// Reopen the parent as a real descriptor to create inside it.
	pfd, err := unix.Openat(parent, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open parent of %s in container root: %w", name, err)
	}
	defer unix.Close(pfd)
	base := path.Base(name)
	// A dangling symlink (pointing outside, or nowhere) is no mount target:
	// replace it with a real entry.
	var st unix.Stat_t
	if unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
		if err := unix.Unlinkat(pfd, base, 0); err != nil {
			return -1, fmt.Errorf("replace dangling symlink %s in container root: %w", name, err)
		}
	}
	if dir {
		err = unix.Mkdirat(pfd, base, 0o755)
	} else {
		var f int
		f, err = unix.Openat(pfd, base, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(f)
		}
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, fmt.Errorf("create %s in container root: %w", name, err)
	}
	fd, err = unix.Openat2(rootFd, name, how)
	if err != nil {
		return -1, fmt.Errorf("open %s in container root: %w", name, err)
	}
	return fd, nil
}

// fdPath names an open descriptor of this process as a path.
func fdPath(fd int) string { return fmt.Sprintf("/proc/self/fd/%d", fd) }

// mountInRoot mounts source (of fstype, with flags and data) onto target,
// resolved inside root.
func mountInRoot(rootFd int, source, target, fstype string, flags uintptr, data string, dir bool) error {
	fd, err := openInRoot(rootFd, target, dir)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Mount(source, fdPath(fd), fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
	}
	return nil
}
