package image

import (
	"os"

	"golang.org/x/sys/unix"
)

// syncFS flushes the filesystem holding dir with one syncfs(2).
func syncFS(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Syncfs(int(f.Fd()))
}
