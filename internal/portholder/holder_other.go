//go:build !linux

package portholder

// find cannot tell on this operating system.
func find(proto, ip string, port int) (Holder, bool) { return Holder{}, false }
