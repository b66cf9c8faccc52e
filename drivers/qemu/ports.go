package qemu

import (
	"fmt"
	"net"
	"strconv"
)

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	if port <= 0 || port > 65535 {
		return false
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port on 127.0.0.1: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sshPort returns preferred when it is free, else a free port.
func sshPort(preferred int) (int, error) {
	if portFree(preferred) {
		return preferred, nil
	}
	return freePort()
}
