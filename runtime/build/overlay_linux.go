package build

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/berthvm/berth/runtime/image"
	"golang.org/x/sys/unix"
)

// layerDirs are the unpacked layers of st, top-most first.
func (r *run) layerDirs(st *state) ([]string, error) {
	if st.id == "" {
		return nil, nil
	}
	img, err := r.b.images.Resolve(st.id)
	if err != nil {
		return nil, fmt.Errorf("build state %s: %w", image.ShortID(st.id), err)
	}
	var dirs []string
	for i := len(img.LayerDirs) - 1; i >= 0; i-- {
		dirs = append(dirs, img.LayerDirs[i])
	}
	return dirs, nil
}

// inOverlay mounts a writable overlay of st, calls fn with its root and
// stores what fn changed as a layer; nil when nothing changed.
func (r *run) inOverlay(st *state, fn func(root int) error) (*image.Layer, func(), error) {
	lowers, err := r.layerDirs(st)
	if err != nil {
		return nil, nil, err
	}
	ws, err := os.MkdirTemp(r.work, "step-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(ws)
	for _, d := range []string{"upper", "work", "empty"} {
		if err := os.Mkdir(filepath.Join(ws, d), 0o755); err != nil {
			return nil, nil, err
		}
	}
	if len(lowers) == 0 {
		lowers = []string{filepath.Join(ws, "empty")}
	}
	root, err := mountOverlay(lowers, ws)
	if err != nil {
		return nil, nil, err
	}
	err = fn(root)
	unix.Close(root)
	if err != nil {
		return nil, nil, err
	}
	upper := filepath.Join(ws, "upper")
	if empty, _ := isEmptyDir(upper); empty {
		return nil, nil, nil
	}
	l, release, err := r.storeDiff(upper, false)
	if err != nil {
		return nil, nil, err
	}
	return &l, release, nil
}

// readOnlyRoot mounts st read-only (for COPY --from) and returns its
// root; close it when done.
func (r *run) readOnlyRoot(st *state) (int, error) {
	lowers, err := r.layerDirs(st)
	if err != nil {
		return -1, err
	}
	ws, err := os.MkdirTemp(r.work, "from-")
	if err != nil {
		return -1, err
	}
	for _, d := range []string{"upper", "work", "empty"} {
		if err := os.Mkdir(filepath.Join(ws, d), 0o755); err != nil {
			return -1, err
		}
	}
	if len(lowers) == 0 {
		lowers = []string{filepath.Join(ws, "empty")}
	}
	// Writable (never written): a read-only overlay of these layers is
	// refused by some kernels.
	return mountOverlay(lowers, ws)
}

func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// storeDiff writes the overlay upper directory upper as a layer tar
// (OCI whiteouts) into the image store.
func (r *run) storeDiff(upper string, skipSetup bool) (image.Layer, func(), error) {
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(writeDiff(r.ctx, pw, upper, skipSetup))
	}()
	l, release, err := r.b.images.AddLayer(r.ctx, pr)
	pr.CloseWithError(errors.New("layer store stopped reading"))
	if err != nil {
		return l, nil, fmt.Errorf("store the step's layer: %w", err)
	}
	return l, release, nil
}

// openIn resolves p inside root (symlinks stay inside it).
func openIn(root int, p string, flags uint64) (int, error) {
	rel := strings.TrimPrefix(path.Clean("/"+p), "/")
	if rel == "" {
		rel = "."
	}
	return unix.Openat2(root, rel, &unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
}

// statIn is lstat of p resolved inside root (its last element not
// followed).
func statIn(root int, p string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := openIn(root, p, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	err = unix.Fstat(fd, &st)
	return st, err
}

// isDirIn reports whether p (followed) is a directory inside root.
func isDirIn(root int, p string) bool {
	fd, err := openIn(root, p, unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

// mkdirAllIn makes directory p and its missing parents inside root
// (0755, root's), resolving each parent inside root.
func mkdirAllIn(root int, p string) error {
	p = path.Clean("/" + p)
	if p == "/" {
		return nil
	}
	cur := ""
	for _, part := range strings.Split(p[1:], "/") {
		parent := cur
		cur = cur + "/" + part
		fd, err := openIn(root, cur, unix.O_PATH|unix.O_DIRECTORY)
		if err == nil {
			unix.Close(fd)
			continue
		}
		if !errors.Is(err, unix.ENOENT) {
			if errors.Is(err, unix.ENOTDIR) {
				return badRequest("%s is not a directory in the image", cur)
			}
			return fmt.Errorf("open %s: %w", cur, err)
		}
		pfd, err := openIn(root, parent, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return fmt.Errorf("open %s: %w", parent, err)
		}
		err = unix.Mkdirat(pfd, part, 0o755)
		unix.Close(pfd)
		if err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("make %s: %w", cur, err)
		}
	}
	return nil
}

// mountOverlay mounts the overlay of lowers (top-most first) with
// ws/upper and ws/work, and returns a descriptor of its root: the mount
// point is detached at once, so the mount lives only as long as the
// descriptor and no path names it. mount(2) takes the layer list as one
// page; fsconfig's strings stop at 256 bytes, too few for a few layers.
func mountOverlay(lowers []string, ws string) (int, error) {
	target := filepath.Join(ws, "mnt")
	if err := os.MkdirAll(target, 0o700); err != nil {
		return -1, err
	}
	data := "lowerdir=" + strings.Join(lowers, ":") + ",upperdir=" + filepath.Join(ws, "upper") + ",workdir=" + filepath.Join(ws, "work")
	if err := unix.Mount("overlay", target, "overlay", unix.MS_NODEV, data); err != nil {
		return -1, fmt.Errorf("mount the build state (%d layers): %w", len(lowers), err)
	}
	fd, err := unix.Open(target, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if uerr := unix.Unmount(target, unix.MNT_DETACH); uerr != nil && err == nil {
		unix.Close(fd)
		return -1, fmt.Errorf("detach the build state's mount: %w", uerr)
	}
	if err != nil {
		return -1, fmt.Errorf("open the build state's mount: %w", err)
	}
	return fd, nil
}
