//go:build !windows

package qemu

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"strconv"
	"syscall"
)

// daemonize says whether QEMU detaches itself (-daemonize) once started.
const daemonize = true

// processAlive reports whether process pid exists and has not exited.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if runtime.GOOS == "linux" {
		// A zombie has exited; only its parent has yet to reap it. But
		// its main thread turns zombie while other threads still exit,
		// holding its files (and QEMU's disk locks) until the last one
		// is gone.
		stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
				return len(tasks) > 1
			}
		}
	}
	return true
}

// processIsOurs reports whether pid runs a command line that mentions
// marker (the machine's pidfile), so that a recycled pid is never
// signalled. Where the command line cannot be read it trusts the pid.
func processIsOurs(pid int, marker string) bool {
	if !processAlive(pid) {
		return false
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return runtime.GOOS != "linux"
	}
	return bytes.Contains(cmdline, []byte(marker))
}

// killProcess kills pid at once.
func killProcess(pid int) error {
	err := syscall.Kill(pid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}
