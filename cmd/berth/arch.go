package main

import (
	"fmt"
	"runtime"
)

// archDriver is a driver that can make machines of another CPU
// architecture than this computer's.
type archDriver interface {
	SetArch(arch string) error
	GuestArch() string
}

// setArch applies --arch to a new machine's driver; "" keeps the
// driver's default (this computer's architecture).
func setArch(drv any, driver, arch string) error {
	if arch == "" {
		return nil
	}
	ad, ok := drv.(archDriver)
	if !ok {
		return usagef("the %s driver cannot choose the machine's architecture: drop --arch", driver)
	}
	if err := ad.SetArch(arch); err != nil {
		return &usageError{err}
	}
	return nil
}

// foreignArchNoter is a driver that says itself what a machine of another
// architecture than this computer's means for it.
type foreignArchNoter interface {
	ForeignArchNote(hostArch string) string
}

// emulationNote warns when the machine's CPU is not this computer's: no
// hypervisor runs it, QEMU emulates every instruction (or the driver
// says what else happens).
func emulationNote(drv any) string {
	ad, ok := drv.(archDriver)
	if !ok || ad.GuestArch() == runtime.GOARCH {
		return ""
	}
	if n, ok := drv.(foreignArchNoter); ok {
		return n.ForeignArchNote(runtime.GOARCH)
	}
	return fmt.Sprintf("an %s machine on this %s computer is emulated instruction by instruction: expect it to be several times slower than an %s one", ad.GuestArch(), runtime.GOARCH, runtime.GOARCH)
}
