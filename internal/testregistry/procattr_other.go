//go:build !linux

package testregistry

import "os/exec"

// dieWithParent has no portable equivalent; Stop ends the registry.
func dieWithParent(*exec.Cmd) {}
