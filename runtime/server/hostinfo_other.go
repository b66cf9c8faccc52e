//go:build !linux

package server

import (
	"errors"
	"runtime"
)

// The agent only runs on Linux; these let the package build elsewhere.

func kernelRelease() string { return "" }

func unameMachine() string { return runtime.GOARCH }

func diskSpace(path string) (free, total uint64, err error) {
	return 0, 0, errors.New("disk space is only read on linux")
}
