//go:build !windows

package hostagent

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// dialWait bounds how long a client connection waits for the host agent
// to (re)connect to the machine.
const dialWait = 30 * time.Second

// listen makes the host agent's socket, mode 0600, in a folder only this
// user can enter. A socket left by a killed host agent is replaced (the
// caller holds the lock).
func listen(dir string) (net.Listener, error) {
	p := SocketPath(dir)
	inDir := filepath.Join(dir, SocketFile)
	if p != inDir {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		if err := os.Chmod(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove the old socket: %w", err)
	}
	ln, err := listenUnix(p)
	if err != nil {
		return nil, err
	}
	if p != inDir {
		os.Remove(inDir)
		if err := os.Symlink(p, inDir); err != nil {
			ln.Close()
			return nil, fmt.Errorf("link %s to the socket: %w", inDir, err)
		}
	}
	return ln, nil
}

// listenUnix listens on the unix socket p, mode 0600.
func listenUnix(p string) (net.Listener, error) {
	ln, err := net.Listen("unix", p)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", p, err)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("listen on %s: %w", p, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(true)
	return ln, nil
}

func removeSocket(dir string) {
	p := SocketPath(dir)
	os.Remove(p)
	if inDir := filepath.Join(dir, SocketFile); inDir != p {
		os.Remove(inDir)
	}
}
