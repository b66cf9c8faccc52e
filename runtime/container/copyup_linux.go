package container

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// copyUp fills an empty volume with what the image holds at its target,
// as Docker does when a volume is first mounted over a folder of the
// image. The image's side is read through descriptors resolved inside
// root, and its symlinks are copied as symlinks, never followed, so a
// hostile image cannot make the agent read outside its root filesystem.
// Regular files, folders and symlinks are copied with their mode, owner
// and modification time; other kinds of files are left out.
func copyUp(root int, m Mount) error {
	ents, err := os.ReadDir(m.Source)
	if err != nil {
		return fmt.Errorf("read volume %s: %w", m.Name, err)
	}
	if len(ents) > 0 {
		return nil
	}
	name := strings.TrimPrefix(path.Clean("/"+m.Target), "/")
	if name == "" {
		return nil
	}
	how := &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	src, err := unix.Openat2(root, name, how)
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
		return nil // nothing there in the image: the volume stays empty
	}
	if err != nil {
		return fmt.Errorf("open %s in container root: %w", m.Target, err)
	}
	defer unix.Close(src)
	dst, err := unix.Open(m.Source, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open volume %s: %w", m.Name, err)
	}
	defer unix.Close(dst)
	if err := copyDir(src, dst); err != nil {
		return fmt.Errorf("copy %s of the image into volume %s: %w", m.Target, m.Name, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(src, &st); err == nil {
		unix.Fchown(dst, int(st.Uid), int(st.Gid))
		unix.Fchmod(dst, st.Mode&0o7777)
	}
	return nil
}

// copyDir copies the entries of the folder src into the folder dst.
func copyDir(src, dst int) error {
	// Read the names through a copy of src: the os.File closes its own.
	dup, err := unix.Dup(src)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), "copy-up")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := copyEntry(src, dst, n); err != nil {
			return err
		}
	}
	return nil
}

func copyEntry(src, dst int, name string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(src, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dst, name, 0o700); err != nil {
			return err
		}
		s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(s)
		d, err := unix.Openat(dst, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(d)
		if err := copyDir(s, d); err != nil {
			return err
		}
	case unix.S_IFREG:
		s, err := unix.Openat(src, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		in := os.NewFile(uintptr(s), name)
		defer in.Close()
		d, err := unix.Openat(dst, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		out := os.NewFile(uintptr(d), name)
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(src, name, buf)
		if err != nil {
			return err
		}
		if err := unix.Symlinkat(string(buf[:n]), dst, name); err != nil {
			return err
		}
	default:
		return nil
	}
	if err := unix.Fchownat(dst, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dst, name, st.Mode&0o7777, 0); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	return unix.UtimesNanoAt(dst, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}
