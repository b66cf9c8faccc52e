//go:build !linux

package container

// RunHidden reports false: containers run on Linux only.
func RunHidden(args []string) bool { return false }
