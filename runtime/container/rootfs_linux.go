package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// RootFS is a container's root filesystem opened for reading or writing
// files from outside it (docker cp, export). Close it when done.
type RootFS struct {
	// Fd is a directory descriptor of the container's "/": resolve every
	// path inside it (openat2 with RESOLVE_IN_ROOT).
	Fd int
}

// Close releases the root (and unmounts the overlay of a stopped
// container).
func (f *RootFS) Close() error { return unix.Close(f.Fd) }

// OpenRootFS opens the root filesystem of a container as its processes
// see it: a running (or paused) container's own mount namespace, volumes
// included; for a stopped one, its image layers and changes mounted
// privately (an overlay that no path names, gone when closed; volumes are
// not part of it). writable asks for a root to write into.
func (r *Runtime) OpenRootFS(ctx context.Context, ref string, writable bool) (*RootFS, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	st, _ := r.state(e.spec().ID)
	if st.Running() && st.Pid > 0 {
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/root", st.Pid), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err == nil {
			return &RootFS{Fd: fd}, nil
		}
	}
	fd, err := mountDetachedOverlay(e.spec().LowerDirs, r.cdir(e.spec().ID), writable)
	if err != nil {
		return nil, fmt.Errorf("open the root filesystem of %s: %w", e.spec().Name, err)
	}
	return &RootFS{Fd: fd}, nil
}

// OpenLayers opens the container's own files, running or not: its image
// layers and its changes, read-only, without volumes or the mounts of
// its processes (/proc, /sys, /dev), as docker export archives them.
func (r *Runtime) OpenLayers(ctx context.Context, ref string) (*RootFS, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	fd, err := mountDetachedOverlay(e.spec().LowerDirs, r.cdir(e.spec().ID), false)
	if err != nil {
		return nil, fmt.Errorf("open the layers of %s: %w", e.spec().Name, err)
	}
	return &RootFS{Fd: fd}, nil
}

// mountDetachedOverlay mounts the overlay of a container whose folder is
// dir with the new mount API: the mount is attached nowhere and goes
// away with the last descriptor. Read-only, the container's changes are
// one more lower layer and nothing is written; writable, they are the
// upper layer as when it runs.
func mountDetachedOverlay(lowers []string, dir string, writable bool) (int, error) {
	upper := filepath.Join(dir, "upper")
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(fsfd)
	opts := [][2]string{{"lowerdir", strings.Join(append([]string{upper}, lowers...), ":")}}
	if writable {
		opts = [][2]string{
			{"lowerdir", strings.Join(lowers, ":")},
			{"upperdir", upper},
			{"workdir", filepath.Join(dir, "work")},
		}
	}
	for _, o := range opts {
		if len(o[1]) >= fsconfigMax {
			// fsconfig copies at most 256 bytes of a value: a few
			// layers' paths are more.
			return mountDetachedOverlayData(opts, dir, writable)
		}
		if err := unix.FsconfigSetString(fsfd, o[0], o[1]); err != nil {
			return -1, fmt.Errorf("overlay option %s=%s: %w", o[0], o[1], err)
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return -1, fmt.Errorf("make overlay: %w", err)
	}
	var attr int
	if !writable {
		attr = unix.MOUNT_ATTR_RDONLY
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return -1, fmt.Errorf("fsmount overlay: %w", err)
	}
	return mfd, nil
}

// fsconfigMax is the most bytes of an option value (with its NUL) that
// fsconfig(2) copies from the caller.
const fsconfigMax = 256

// mountDetachedOverlayData mounts the overlay with mount(2), which takes
// its options as one page, on a folder of its own under dir, opens its
// root and detaches the mount at once: as with mountDetachedOverlay, it
// lives only as long as the descriptor.
func mountDetachedOverlayData(opts [][2]string, dir string, writable bool) (int, error) {
	target, err := os.MkdirTemp(dir, "mnt-")
	if err != nil {
		return -1, err
	}
	defer os.Remove(target)
	parts := make([]string, len(opts))
	for i, o := range opts {
		parts[i] = o[0] + "=" + o[1]
	}
	flags := uintptr(unix.MS_NODEV)
	if !writable {
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("overlay", target, "overlay", flags, strings.Join(parts, ",")); err != nil {
		return -1, fmt.Errorf("make overlay: %w", err)
	}
	fd, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if uerr := unix.Unmount(target, unix.MNT_DETACH); uerr != nil && err == nil {
		unix.Close(fd)
		return -1, fmt.Errorf("detach the overlay: %w", uerr)
	}
	if err != nil {
		return -1, fmt.Errorf("open the overlay: %w", err)
	}
	return fd, nil
}
