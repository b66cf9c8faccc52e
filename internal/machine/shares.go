package machine

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// ParseShare reads a --share value, HOSTDIR[:GUESTDIR]. A relative HOSTDIR
// is taken from cwd; GUESTDIR defaults to GuestPathFor(HOSTDIR). It checks
// the syntax (and, for a value with a colon that is not followed by an
// absolute path, that the whole value names a folder): ValidateShares
// checks the folders.
func ParseShare(spec, cwd string) (drivers.Share, error) {
	host, guest := splitShare(spec)
	if host == "" {
		return drivers.Share{}, fmt.Errorf("--share %q: no host folder; want HOSTDIR[:GUESTDIR]", spec)
	}
	if !filepath.IsAbs(host) {
		host = filepath.Join(cwd, host)
	}
	host = filepath.Clean(host)
	if i := strings.LastIndex(spec, ":"); guest == "" && i > 0 && !isDriveColon(spec, i) {
		if _, err := os.Stat(host); err != nil {
			return drivers.Share{}, fmt.Errorf("--share %q: the guest folder after the colon must be an absolute path (HOSTDIR:/GUESTDIR)", spec)
		}
	}
	if guest == "" {
		guest = GuestPathFor(host)
	}
	return drivers.Share{HostPath: host, GuestPath: guest}, nil
}

// splitShare splits HOSTDIR[:GUESTDIR] at the last colon that a guest
// path (absolute, so starting with /) follows, so that Windows host paths
// (C:\src, C:\src:/src) keep their drive letter.
func splitShare(spec string) (host, guest string) {
	i := strings.LastIndex(spec, ":")
	if i < 0 || isDriveColon(spec, i) || !strings.HasPrefix(spec[i+1:], "/") {
		return spec, ""
	}
	return spec[:i], spec[i+1:]
}

// isDriveColon reports whether the colon at i ends a Windows drive letter
// ("C:" at the start of spec).
func isDriveColon(spec string, i int) bool {
	if i != 1 {
		return false
	}
	c := spec[0] | 0x20
	return c >= 'a' && c <= 'z'
}

// GuestPathFor is where a host folder appears in the guest by default: the
// same path, and on Windows /c/Users/x for C:\Users\x (as docker-machine
// did).
func GuestPathFor(host string) string {
	p := strings.ReplaceAll(host, `\`, "/")
	if len(p) >= 2 && isDriveColon(p, 1) {
		p = "/" + strings.ToLower(p[:1]) + p[2:]
	}
	return path.Clean("/" + strings.TrimPrefix(p, "/"))
}

// DefaultShares are the shares of a machine created without --share: the
// user's home folder at the same path, as docker-machine shared /Users.
// A home that the guest cannot take (root's /root is berth-os's own) gives
// none and the reason.
func DefaultShares(home string) ([]drivers.Share, error) {
	if home == "" {
		return nil, errors.New("no home folder")
	}
	s := drivers.Share{HostPath: filepath.Clean(home), GuestPath: GuestPathFor(home)}
	if err := checkGuestPath(s.GuestPath); err != nil {
		return nil, fmt.Errorf("%s: %w", home, err)
	}
	return []drivers.Share{s}, nil
}

// reservedGuestPaths are berth-os's own folders: a share may not sit on or
// under them (it would hide the guest's files, its SSH keys in /root or its
// data disk in /var/lib/berth).
var reservedGuestPaths = []string{"/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var"}

// checkGuestPath accepts a clean absolute path outside berth-os's own
// folders, made of the characters the guest's mount list can carry.
func checkGuestPath(p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("guest folder %q: want a clean absolute path such as /src", p)
	}
	if p == "/" || p == "/tmp" {
		return fmt.Errorf("guest folder %q is berth-os's own; name another, e.g. HOSTDIR:/host%s", p, strings.TrimSuffix(p, "/"))
	}
	for _, r := range reservedGuestPaths {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Errorf("guest folder %q lies in berth-os's own %s; name another, e.g. HOSTDIR:/host%s", p, r, p)
		}
	}
	for _, c := range p {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-", c)
		if !ok {
			return fmt.Errorf("guest folder %q: berth-os takes letters, digits and /._- only; name another with HOSTDIR:GUESTDIR", p)
		}
	}
	return nil
}

// checkStoredShares checks the shares of a stored config without looking
// at the host: a host folder may be gone for a while (the driver then
// leaves it out), but a relative host path or a guest path that the guest
// cannot take means the config was damaged.
func checkStoredShares(shares []drivers.Share) error {
	var errs []error
	for _, s := range shares {
		if !filepath.IsAbs(s.HostPath) {
			errs = append(errs, fmt.Errorf("share %q: the host folder must be an absolute path", s.HostPath))
		}
		if err := checkGuestPath(s.GuestPath); err != nil {
			errs = append(errs, fmt.Errorf("share %s: %w", s.HostPath, err))
		}
	}
	return errors.Join(errs...)
}

// ValidateShares names every bad share at once: a host folder that is not
// an absolute path to an existing folder, a guest folder that the guest
// cannot take, two shares on one guest folder.
func ValidateShares(shares []drivers.Share) error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range shares {
		if !filepath.IsAbs(s.HostPath) {
			errs = append(errs, fmt.Errorf("share %s: the host folder must be an absolute path", s.HostPath))
		} else if fi, err := os.Stat(s.HostPath); err != nil {
			errs = append(errs, fmt.Errorf("share %s: the host folder does not exist or cannot be read (%w); make it first or name another", s.HostPath, errors.Unwrap(err)))
		} else if !fi.IsDir() {
			errs = append(errs, fmt.Errorf("share %s: not a folder; share the folder that holds it", s.HostPath))
		}
		if err := checkGuestPath(s.GuestPath); err != nil {
			errs = append(errs, fmt.Errorf("share %s: %w", s.HostPath, err))
		}
		if seen[s.GuestPath] {
			errs = append(errs, fmt.Errorf("share %s: guest folder %s is shared twice", s.HostPath, s.GuestPath))
		}
		seen[s.GuestPath] = true
	}
	return errors.Join(errs...)
}

// The errors of ResolveShares that callers branch on; all of its errors
// are the user's to fix.
var (
	// ErrShareConflict: both shares and no sharing were asked for.
	ErrShareConflict = errors.New("--share and --no-share contradict each other; give one")
	// ErrCannotShare: shares were asked of a driver without the
	// SharedFolders role.
	ErrCannotShare = errors.New("cannot share folders from this computer")
	// ErrBadShare: a --share value cannot be shared.
	ErrBadShare = errors.New("bad --share")
)

// ShareRequest is what the user asked of a new machine's shares.
type ShareRequest struct {
	// Specs are the --share values, HOSTDIR[:GUESTDIR].
	Specs []string
	// NoShare (--no-share) asks for no shares, not even the default.
	NoShare bool
	// Cwd returns the folder relative HOSTDIRs are taken from (os.Getwd);
	// Home returns the user's home folder, the default share
	// (os.UserHomeDir). Each is called only when needed.
	Cwd, Home func() (string, error)
}

// ResolveShares turns req into the shares of a new machine whose driver is
// drv. Without Specs or NoShare, a driver that can share gets the user's
// home folder (DefaultShares); when that cannot be shared, note says why
// and there are none. Bad Specs are named all at once.
func ResolveShares(drv drivers.Driver, req ShareRequest) (shares []drivers.Share, note string, err error) {
	_, can := drv.(drivers.SharedFolders)
	if req.NoShare && len(req.Specs) > 0 {
		return nil, "", ErrShareConflict
	}
	if len(req.Specs) > 0 {
		if !can {
			return nil, "", fmt.Errorf("the %s driver %w; drop --share", drv.DriverName(), ErrCannotShare)
		}
		shares, err := parseShares(req.Specs, req.Cwd)
		if err != nil {
			return nil, "", err
		}
		return shares, "", nil
	}
	if req.NoShare || !can {
		return nil, "", nil
	}
	home, err := req.Home()
	if err == nil {
		shares, err = DefaultShares(home)
	}
	if err == nil {
		err = ValidateShares(shares)
	}
	if err != nil {
		return nil, fmt.Sprintf("not sharing your home folder %v", err), nil
	}
	return shares, "", nil
}

// parseShares reads --share values relative to the folder cwd returns and
// names every bad one at once.
func parseShares(specs []string, cwd func() (string, error)) ([]drivers.Share, error) {
	dir, err := cwd()
	if err != nil {
		return nil, fmt.Errorf("--share: find the current folder: %w", err)
	}
	var errs []error
	var out []drivers.Share
	for _, spec := range specs {
		s, err := ParseShare(spec, dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	if err := ValidateShares(out); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadShare, err)
	}
	return out, nil
}

// HiddenGuestPaths are the guest paths where the shares show the berth
// store root (~/.berth: every machine's private SSH key and disk), which
// the guest must hide (drivers.Base.Hidden): the default share of the
// home folder holds it. Symlinks are resolved on both sides; a store
// outside every share gives none.
func HiddenGuestPaths(root string, shares []drivers.Share) []string {
	real := func(p string) string {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			return r
		}
		return filepath.Clean(p)
	}
	store := real(root)
	var out []string
	for _, s := range shares {
		host := real(s.HostPath)
		if inside(host, store) {
			// The share is the store or a folder in it: hide it all.
			out = append(out, s.GuestPath)
			continue
		}
		if !inside(store, host) {
			continue
		}
		rel, _ := filepath.Rel(host, store)
		out = append(out, path.Join(s.GuestPath, filepath.ToSlash(rel)))
	}
	return out
}

// inside reports whether p is dir or lies under it.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
