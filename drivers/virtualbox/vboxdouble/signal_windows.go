package vboxdouble

import (
	"errors"
	"os"
	"syscall"
)

// signal ends process pid for SIGKILL and SIGTERM; Windows has no other
// signals (the double runs its VMs on Linux; this keeps it building).
func signal(pid int, sig syscall.Signal) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	defer p.Release()
	if sig == 0 {
		return nil
	}
	if sig != syscall.SIGKILL && sig != syscall.SIGTERM {
		return errors.New("signal not supported on Windows")
	}
	return p.Kill()
}
