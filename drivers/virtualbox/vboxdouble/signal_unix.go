//go:build unix

package vboxdouble

import "syscall"

// signal sends sig to process pid (0 checks that it exists).
func signal(pid int, sig syscall.Signal) error { return syscall.Kill(pid, sig) }
