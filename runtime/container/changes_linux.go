package container

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// ChangeKind is Docker's kind of filesystem change.
type ChangeKind int

// Change kinds, as docker diff prints them (C, A, D).
const (
	ChangeModify ChangeKind = 0
	ChangeAdd    ChangeKind = 1
	ChangeDelete ChangeKind = 2
)

// Change is one path of the container that differs from its image.
type Change struct {
	Path string
	Kind ChangeKind
}

// setupPaths are made by the runtime, not by the container's processes
// (Docker keeps them in its init layer): docker diff leaves them out.
var setupPaths = map[string]bool{
	"/dev": true, "/proc": true, "/sys": true, "/etc": true,
	"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true,
	"/dev/pts": true, "/dev/shm": true, "/dev/mqueue": true, "/sys/fs/cgroup": true,
}

// Changes lists what the container changed in its image's files, from
// its overlay upper directory: whiteouts are deletions, paths the image
// holds are modifications, the rest additions.
func (r *Runtime) Changes(ref string) ([]Change, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return nil, err
	}
	upper := filepath.Join(r.cdir(e.spec().ID), "upper")
	var lowers []int
	for _, d := range e.spec().LowerDirs {
		fd, err := unix.Open(d, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open image layer: %w", err)
		}
		defer unix.Close(fd)
		lowers = append(lowers, fd)
	}
	var out []Change
	err = filepath.WalkDir(upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(upper, p)
		if rel == "." {
			return nil
		}
		name := "/" + rel
		if d.Type()&fs.ModeCharDevice != 0 {
			if isWhiteout(p) {
				out = append(out, Change{Path: name, Kind: ChangeDelete})
				return nil
			}
		}
		kind := ChangeAdd
		if inLayers(lowers, rel) {
			kind = ChangeModify
		}
		out = append(out, Change{Path: name, Kind: kind})
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read changes of %s: %w", e.spec().Name, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return withoutSetup(out), nil
}

// withoutSetup drops the runtime's own paths, keeping a folder of them
// that holds a change of the container's processes.
func withoutSetup(all []Change) []Change {
	var out []Change
	for i, c := range all {
		if setupPaths[c.Path] {
			own := false
			for _, d := range all[i+1:] {
				if !strings.HasPrefix(d.Path, c.Path+"/") {
					break
				}
				own = own || !setupPaths[d.Path]
			}
			if !own {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// isWhiteout reports whether p is an overlayfs whiteout (a 0/0
// character device).
func isWhiteout(p string) bool {
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// inLayers reports whether an image layer holds rel, resolved inside
// each layer so that a layer's symlinks lead nowhere outside it.
func inLayers(lowers []int, rel string) bool {
	rel = strings.TrimPrefix(rel, "/")
	for _, l := range lowers {
		fd, err := unix.Openat2(l, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
		if err == nil {
			var st unix.Stat_t
			unix.Fstat(fd, &st)
			unix.Close(fd)
			return !(st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0)
		}
	}
	return false
}

// ChangesDir is the folder holding what the container changed (its
// overlay upper directory), for sizes.
func (r *Runtime) ChangesDir(ref string) (string, error) {
	e, err := r.lookup(ref)
	if err != nil {
		return "", err
	}
	return filepath.Join(r.cdir(e.spec().ID), "upper"), nil
}
