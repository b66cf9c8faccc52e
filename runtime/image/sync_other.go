//go:build !linux

package image

// syncFS has no single-call equivalent off Linux; files are flushed by the
// operating system.
func syncFS(string) error { return nil }
