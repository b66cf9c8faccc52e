package qemu

import (
	"os"
	"syscall"
)

// daemonize says whether QEMU detaches itself (-daemonize) once started:
// QEMU for Windows cannot.
const daemonize = false

const stillActive = 259

// processAlive reports whether process pid exists and has not exited.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := syscall.OpenProcess(syscall.PROCESS_QUERY_INFORMATION, false, uint32(pid))
	if err != nil {
		return false
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code == stillActive
}

// processIsOurs trusts a live pid: Windows does not recycle a pid while
// a handle is open, and the pidfile is removed when QEMU exits.
func processIsOurs(pid int, _ string) bool {
	return processAlive(pid)
}

// killProcess kills pid at once.
func killProcess(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return nil
	}
	return p.Kill()
}
