package teamenv

import "golang.org/x/sys/unix"

// hostMemory reads hw.memsize; 0 when it cannot.
func hostMemory() int64 {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil {
		return 0
	}
	return int64(n)
}
