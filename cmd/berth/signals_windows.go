package main

import (
	"os"
	"syscall"
)

// proxiedSignals are the signals run forwards to the container.
var proxiedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// notifyResize does nothing: Windows consoles send no resize signal.
func notifyResize(chan<- os.Signal) {}
