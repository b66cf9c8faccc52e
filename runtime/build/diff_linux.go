package build

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// setupFiles are made by the container runtime in a RUN step's upper
// directory as mount points; they are not the step's changes.
var setupFiles = map[string]bool{"etc/hosts": true, "etc/hostname": true, "etc/resolv.conf": true}

// setupDirs hold the runtime's mount points: kept in the layer only when
// the step changed something else in them.
var setupDirs = map[string]bool{
	"dev": true, "proc": true, "sys": true, "etc": true, "dev/pts": true,
	"dev/shm": true, "dev/mqueue": true, "sys/fs": true, "sys/fs/cgroup": true,
}

type diffEntry struct {
	rel string
	st  unix.Stat_t
}

// writeDiff writes the overlay upper directory upper to w as a layer
// tar: whiteouts (0/0 character devices) become .wh. entries, opaque
// directories get a .wh..wh..opq entry. skipSetup leaves out the
// runtime's mount points.
func writeDiff(ctx context.Context, w io.Writer, upper string, skipSetup bool) error {
	var entries []diffEntry
	err := filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(upper, p)
		if rel == "." {
			return nil
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		if skipSetup && setupFiles[rel] && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0 {
			return nil
		}
		entries = append(entries, diffEntry{rel, st})
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the step's changes: %w", err)
	}
	if skipSetup {
		entries = dropSetupDirs(entries)
	}
	tw := tar.NewWriter(w)
	links := map[[2]uint64]string{}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeEntry(tw, upper, e, links); err != nil {
			return fmt.Errorf("archive %s: %w", e.rel, err)
		}
	}
	return tw.Close()
}

// dropSetupDirs removes setup directories that hold no other change.
func dropSetupDirs(entries []diffEntry) []diffEntry {
	var out []diffEntry
	for i, e := range entries {
		if setupDirs[e.rel] && e.st.Mode&unix.S_IFMT == unix.S_IFDIR {
			own := false
			for _, d := range entries[i+1:] {
				if !strings.HasPrefix(d.rel, e.rel+"/") {
					break
				}
				if !setupDirs[d.rel] {
					own = true
					break
				}
			}
			if !own {
				continue
			}
		}
		out = append(out, e)
	}
	return out
}

func writeEntry(tw *tar.Writer, upper string, e diffEntry, links map[[2]uint64]string) error {
	st := e.st
	p := filepath.Join(upper, e.rel)
	dir, base := filepath.Split(e.rel)
	mtime := time.Unix(st.Mtim.Unix())
	hdr := &tar.Header{
		Name: e.rel, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: mtime, Format: tar.FormatPAX,
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		if st.Rdev == 0 {
			return tw.WriteHeader(&tar.Header{Name: dir + ".wh." + base, Typeflag: tar.TypeReg, Mode: 0o600, ModTime: mtime, Format: tar.FormatPAX})
		}
		hdr.Typeflag = tar.TypeChar
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFBLK:
		hdr.Typeflag = tar.TypeBlock
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, e.rel+"/"
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if v, err := getXattr(p, "trusted.overlay.opaque"); err == nil && v == "y" {
			return tw.WriteHeader(&tar.Header{Name: e.rel + "/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o600, ModTime: mtime, Format: tar.FormatPAX})
		}
		return nil
	case unix.S_IFLNK:
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
	case unix.S_IFREG:
		key := [2]uint64{st.Dev, st.Ino}
		if first, ok := links[key]; ok && st.Nlink > 1 {
			hdr.Typeflag, hdr.Linkname = tar.TypeLink, first
			return tw.WriteHeader(hdr)
		}
		if st.Nlink > 1 {
			links[key] = e.rel
		}
		if v, err := getXattr(p, "security.capability"); err == nil {
			hdr.PAXRecords = map[string]string{"SCHILY.xattr.security.capability": v}
		}
		f, err := os.OpenFile(p, os.O_RDONLY|unix.O_NOFOLLOW, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.CopyN(tw, f, st.Size)
		return err
	default:
		return nil // sockets
	}
	return tw.WriteHeader(hdr)
}

func getXattr(p, name string) (string, error) {
	buf := make([]byte, 256)
	n, err := unix.Lgetxattr(p, name, buf)
	if errors.Is(err, unix.ERANGE) {
		sz, err2 := unix.Lgetxattr(p, name, nil)
		if err2 != nil {
			return "", err2
		}
		buf = make([]byte, sz)
		n, err = unix.Lgetxattr(p, name, buf)
	}
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
