//go:build !linux

package image

// compatArchs: the agent runs on Linux only; elsewhere (tests of the
// store) a machine runs its own platform.
func compatArchs() []string { return nil }

// emulatedArchs: no binfmt_misc off Linux.
func emulatedArchs() []string { return nil }
