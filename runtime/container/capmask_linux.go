package container

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// capNames are the capabilities by number, as the kernel numbers them.
var capNames = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE",
	"NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL",
	"SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
	"BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// capNumber reads a capability name as Docker accepts it: "NET_ADMIN",
// "CAP_NET_ADMIN", any case.
func capNumber(name string) (int, error) {
	n := strings.TrimPrefix(strings.ToUpper(name), "CAP_")
	if i := slices.Index(capNames, n); i >= 0 {
		return i, nil
	}
	return 0, fmt.Errorf("unknown capability: %q", name)
}

// CapMask is the capability set of a container's processes, as Docker
// computes it: Docker's defaults plus CapAdd minus CapDrop; ALL in
// CapDrop starts from none, ALL in CapAdd from every capability; a
// privileged container has every one.
func (h HostSettings) CapMask() (uint64, error) {
	all := uint64(1)<<len(capNames) - 1
	if h.Privileged {
		return all, nil
	}
	bits := func(names []string) (uint64, error) {
		var m uint64
		for _, n := range names {
			if strings.EqualFold(n, "ALL") {
				m |= all
				continue
			}
			c, err := capNumber(n)
			if err != nil {
				return 0, err
			}
			m |= 1 << c
		}
		return m, nil
	}
	add, err := bits(h.CapAdd)
	if err != nil {
		return 0, err
	}
	drop, err := bits(h.CapDrop)
	if err != nil {
		return 0, err
	}
	if slices.ContainsFunc(h.CapDrop, func(s string) bool { return strings.EqualFold(s, "ALL") }) {
		return add, nil
	}
	return (DefaultCapMask() | add) &^ drop, nil
}

// capsOf is the capability set of spec's processes; Docker's defaults
// when its settings are invalid (Create refuses those).
func capsOf(spec Spec) uint64 {
	m, err := spec.CapMask()
	if err != nil {
		return DefaultCapMask()
	}
	return m
}

// ownCaps is the calling thread's permitted set: what a container can be
// given (--cap-add ALL gets no more).
func ownCaps() uint64 {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return DefaultCapMask()
	}
	return uint64(data[0].Permitted) | uint64(data[1].Permitted)<<32
}
