//go:build !linux

package main

import (
	"testing"

	"github.com/berthvm/berth/internal/testenv"
)

// powerLoss needs Linux on the host: it mounts a copy of the machine's
// data disk to verify its image store (see powerloss_linux_test.go).
func powerLoss(t *testing.T, root, name, regHost, guestReg string) {
	testenv.Skip(t, "the power-loss checks mount the machine's disk: Linux hosts only")
}
