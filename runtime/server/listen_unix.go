//go:build unix

package server

import (
	"net"
	"sync"
	"syscall"
)

var umaskMu sync.Mutex

// listenPrivate listens on a unix socket made under umask 0177.
func listenPrivate(path string) (net.Listener, error) {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	old := syscall.Umask(0o177)
	defer syscall.Umask(old)
	return net.Listen("unix", path)
}
