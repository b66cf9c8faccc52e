package isocache

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// pvdOffset is where an ISO 9660 primary volume descriptor starts: after
// the 16 sectors of the system area.
const pvdOffset = 16 * 2048

// VolumeID reads the volume identifier of the ISO 9660 image at path. The
// berth-os ISO carries its version there ("berth-os-v0.1.0").
func VolumeID(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read volume id: %w", err)
	}
	defer f.Close()
	var pvd [72]byte
	if _, err := f.ReadAt(pvd[:], pvdOffset); err != nil {
		if err == io.EOF {
			return "", fmt.Errorf("read volume id of %s: too short for an ISO 9660 image", path)
		}
		return "", fmt.Errorf("read volume id of %s: %w", path, err)
	}
	if pvd[0] != 1 || string(pvd[1:6]) != "CD001" {
		return "", fmt.Errorf("read volume id of %s: not an ISO 9660 image (no primary volume descriptor)", path)
	}
	id := strings.TrimRight(string(pvd[40:72]), " \x00")
	if id == "" {
		return "", fmt.Errorf("read volume id of %s: the volume id is empty", path)
	}
	return id, nil
}

// cacheName is the file name an ISO with volume id id gets in the cache.
func cacheName(id string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, id)
	return clean + ".iso"
}

// versionOf returns the version part of a cached berth-os ISO's file name:
// "v0.1.0" for ".../berth-os-v0.1.0.iso".
func versionOf(path string) string {
	return strings.TrimSuffix(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "berth-os-"), ".iso"), "-arm64")
}

// versionLess orders versions like v0.2.10 after v0.2.9: numeric parts by
// value, other parts as text.
func versionLess(a, b string) bool {
	as := strings.FieldsFunc(strings.TrimPrefix(a, "v"), isSep)
	bs := strings.FieldsFunc(strings.TrimPrefix(b, "v"), isSep)
	for i := 0; i < len(as) && i < len(bs); i++ {
		if as[i] == bs[i] {
			continue
		}
		an, aerr := strconv.Atoi(as[i])
		bn, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			return an < bn
		}
		return as[i] < bs[i]
	}
	return len(as) < len(bs)
}

func isSep(r rune) bool { return r == '.' || r == '-' || r == '_' }

// VersionOf returns the berth-os version a volume id carries: "v0.1.0"
// for berth-os-v0.1.0 and berth-os-v0.1.0-arm64; "" for an ISO that is
// not berth-os.
func VersionOf(volumeID string) string {
	v, ok := strings.CutPrefix(volumeID, "berth-os-")
	if !ok || !strings.HasPrefix(v, "v") {
		return ""
	}
	return strings.TrimSuffix(v, "-arm64")
}

// Older reports whether berth-os version a (v0.1.0) is older than b:
// numeric parts by value (v0.2.10 is newer than v0.2.9).
func Older(a, b string) bool { return versionLess(a, b) }
