//go:build !windows

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// proxiedSignals are the signals run forwards to the container.
var proxiedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// notifyResize delivers terminal size changes on ch.
func notifyResize(ch chan<- os.Signal) { signal.Notify(ch, syscall.SIGWINCH) }
