package testimages

import (
	"archive/tar"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// BusyboxI386Path is Debian's static i386 busybox in the test cache
// (scripts/busybox-i386.sh puts it there; scripts/deps.sh test runs it).
func BusyboxI386Path() (string, error) {
	cache := os.Getenv("BERTH_TEST_CACHE")
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("no cache folder for the i386 busybox: %w", err)
		}
		cache = filepath.Join(dir, "berth-test")
	}
	p := filepath.Join(cache, "busybox-i386", "busybox")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("the i386 busybox is not in the test cache (run scripts/busybox-i386.sh): %w", err)
	}
	return p, nil
}

// i386Applets are the applets the i386 image links (the binary cannot be
// asked for its list on a host without 32-bit support).
var i386Applets = []string{"sh", "cat", "echo", "ls", "wc", "id", "uname", "nc", "sleep", "true", "false", "head", "dd"}

// BusyboxI386 returns a one-layer linux/386 busybox image, with sh as its
// command: 32-bit x86 code, which an amd64 machine runs through its
// kernel's 32-bit ABI.
func BusyboxI386() (v1.Image, error) {
	p, err := BusyboxI386Path()
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("read the i386 busybox: %w", err)
	}
	files := []File{
		{Name: "bin/", Type: tar.TypeDir},
		{Name: "bin/busybox", Mode: 0o755, Body: bin},
		{Name: "tmp/", Type: tar.TypeDir, Mode: 0o1777},
		{Name: "etc/", Type: tar.TypeDir},
		{Name: "etc/passwd", Body: []byte("root:x:0:0:root:/root:/bin/sh\n")},
	}
	for _, a := range i386Applets {
		files = append(files, File{Name: "bin/" + a, Type: tar.TypeSymlink, Link: "busybox", Mode: 0o777})
	}
	l, err := Layer(files, false)
	if err != nil {
		return nil, err
	}
	return Build("386", []v1.Layer{l}, []string{"sh"}, PathEnv, false)
}
