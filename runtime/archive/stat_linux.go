package archive

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Stat is what the API tells of a path (X-Docker-Container-Path-Stat).
type Stat struct {
	Name       string      `json:"name"`
	Size       int64       `json:"size"`
	Mode       os.FileMode `json:"mode"`
	Mtime      time.Time   `json:"mtime"`
	LinkTarget string      `json:"linkTarget"`
}

// inRoot is how every client path is resolved: symlinks and ".." stay
// inside the root, as if it were "/".
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openDir opens the directory dir of the container as an O_PATH
// descriptor, its symlinks resolved inside root.
func openDir(root int, dir string) (int, error) {
	rel := strings.TrimPrefix(path.Clean("/"+dir), "/")
	if rel == "" {
		rel = "."
	}
	fd, err := unix.Openat2(root, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: inRoot})
	switch {
	case errors.Is(err, unix.ENOENT):
		return -1, fmt.Errorf("%s: %w", dir, ErrNotFound)
	case errors.Is(err, unix.ENOTDIR):
		return -1, fmt.Errorf("%s: %w", dir, ErrNotDir)
	case err != nil:
		return -1, fmt.Errorf("open %s in the container: %w", dir, err)
	}
	return fd, nil
}

// lstat stats base in the directory dfd without following it; "" and "."
// stat the directory itself.
func lstat(dfd int, base string) (unix.Stat_t, error) {
	var st unix.Stat_t
	var err error
	if base == "" || base == "." {
		err = unix.Fstatat(dfd, "", &st, unix.AT_EMPTY_PATH)
	} else {
		err = unix.Fstatat(dfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	}
	if errors.Is(err, unix.ENOENT) {
		return st, ErrNotFound
	}
	return st, err
}

// StatPath stats p in the container whose root directory is the
// descriptor root, as GET/HEAD /containers/{id}/archive answer: the
// directories on the way are followed, the last element is not.
func StatPath(root int, p string) (Stat, error) {
	abs := absPath(p)
	dir, base := splitPath(abs)
	dfd, err := openDir(root, dir)
	if err != nil {
		return Stat{}, err
	}
	defer unix.Close(dfd)
	st, err := lstat(dfd, base)
	if err != nil {
		return Stat{}, fmt.Errorf("stat %s: %w", abs, err)
	}
	s := Stat{Name: path.Base(abs), Size: st.Size, Mode: fileMode(st.Mode), Mtime: time.Unix(st.Mtim.Unix())}
	if abs == "/" {
		s.Name = "/"
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		target, err := readlinkAt(dfd, base)
		if err != nil {
			return Stat{}, err
		}
		if !path.IsAbs(target) {
			target = path.Join(dir, target)
		}
		s.LinkTarget = target
	}
	return s, nil
}

func readlinkAt(dfd int, base string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(dfd, base, buf)
	if err != nil {
		return "", fmt.Errorf("read link %s: %w", base, err)
	}
	return string(buf[:n]), nil
}

// fileMode turns a stat mode into Go's os.FileMode, the encoding Docker
// puts in the path stat.
func fileMode(m uint32) os.FileMode {
	mode := os.FileMode(m & 0o777)
	switch m & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= os.ModeDir
	case unix.S_IFLNK:
		mode |= os.ModeSymlink
	case unix.S_IFIFO:
		mode |= os.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= os.ModeSocket
	case unix.S_IFBLK:
		mode |= os.ModeDevice
	case unix.S_IFCHR:
		mode |= os.ModeDevice | os.ModeCharDevice
	}
	if m&unix.S_ISUID != 0 {
		mode |= os.ModeSetuid
	}
	if m&unix.S_ISGID != 0 {
		mode |= os.ModeSetgid
	}
	if m&unix.S_ISVTX != 0 {
		mode |= os.ModeSticky
	}
	return mode
}
