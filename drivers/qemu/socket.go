package qemu

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath is a safe length for a unix socket path: the kernel's
// limit is 104 (macOS) or 108 (Linux) bytes including the final NUL.
const maxSocketPath = 100

// socketAddr returns a path that reaches the socket at path and fits the
// kernel's limit. A long path is reached through a short symbolic link to
// its folder in the temporary folder, named after the folder.
func socketAddr(path string) (string, error) {
	if len(path) <= maxSocketPath {
		return path, nil
	}
	dir, base := filepath.Split(path)
	dir = filepath.Clean(dir)
	sum := sha256.Sum256([]byte(dir))
	link := filepath.Join(os.TempDir(), "berth-"+hex.EncodeToString(sum[:8]))
	if target, err := os.Readlink(link); err != nil || target != dir {
		tmp := fmt.Sprintf("%s.%d", link, os.Getpid())
		os.Remove(tmp)
		if err := os.Symlink(dir, tmp); err != nil {
			return "", fmt.Errorf("shorten socket path %s: %w", path, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("shorten socket path %s: %w", path, err)
		}
	}
	short := filepath.Join(link, base)
	if len(short) > maxSocketPath {
		return "", fmt.Errorf("socket path %s is too long even through %s", path, link)
	}
	return short, nil
}
