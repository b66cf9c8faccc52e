//go:build !linux && !darwin

package teamenv

// hostMemory is unknown here (0): only CPUs are checked.
func hostMemory() int64 { return 0 }
