//go:build unix

package main

import "syscall"

// processExists reports whether pid names a process (maybe a zombie).
func processExists(pid int) bool { return syscall.Kill(pid, 0) == nil }

// killProcess kills pid (SIGKILL).
func killProcess(pid int) { syscall.Kill(pid, syscall.SIGKILL) }
