package vboxmanage

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// Version is a VirtualBox version as `VBoxManage --version` prints it.
type Version struct {
	Major, Minor, Build int
	Raw                 string // "6.1.38r153438"
}

func (v Version) String() string { return v.Raw }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// AtLeastBuild reports whether v is major.minor.build or newer.
func (v Version) AtLeastBuild(major, minor, build int) bool {
	if v.Major != major || v.Minor != minor {
		return v.AtLeast(major, minor)
	}
	return v.Build >= build
}

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(?:_(?:BETA|ALPHA|RC)\d+)?(?:_[A-Za-z0-9()\[\]{}+\-.,]+)?r(\d+)$`)

// ParseVersion reads `VBoxManage --version` output. On Linux the wrapper
// script can print warnings before the version, so the last non-empty line
// is the version.
func ParseVersion(stdout string) (Version, error) {
	lines := nonEmptyLines(stdout)
	if len(lines) == 0 {
		return Version{}, fmt.Errorf("parse VBoxManage --version: empty output")
	}
	last := lines[len(lines)-1]
	m := versionRE.FindStringSubmatch(last)
	if m == nil {
		return Version{}, fmt.Errorf("parse VBoxManage --version: %q is not a VirtualBox version", last)
	}
	v := Version{Raw: last}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Build, _ = strconv.Atoi(m[3])
	return v, nil
}

// Version asks VBoxManage for its version.
func (m *Manager) Version(ctx context.Context) (Version, error) {
	out, err := m.Run(ctx, "--version")
	if err != nil {
		return Version{}, err
	}
	return ParseVersion(out)
}

// CheckVersion refuses VirtualBox releases older than 5.0.
func CheckVersion(v Version) error {
	if !v.AtLeast(5, 0) {
		return fmt.Errorf("VirtualBox %s is too old: berth needs VirtualBox 5.0 or newer; install a current release from https://www.virtualbox.org/wiki/Downloads", v.Raw)
	}
	return nil
}
