package server

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// cgroupFacts is what the machine's cgroup mount offers.
type cgroupFacts struct {
	v2          bool
	controllers []string
}

// cgroupInfo reads /sys/fs/cgroup: cgroup v2 when its root has
// cgroup.controllers.
func cgroupInfo() cgroupFacts {
	b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	if err != nil {
		return cgroupFacts{controllers: []string{}}
	}
	return cgroupFacts{v2: true, controllers: append([]string{}, strings.Fields(string(b))...)}
}

// overlaySupported says whether the kernel lists overlay in
// /proc/filesystems (a loaded module or built in).
func overlaySupported() bool {
	b, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	return hasFilesystem(b, "overlay")
}

func hasFilesystem(procFilesystems []byte, name string) bool {
	sc := bufio.NewScanner(bytes.NewReader(procFilesystems))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && f[len(f)-1] == name {
			return true
		}
	}
	return false
}

// osPrettyName is PRETTY_NAME from /etc/os-release, or "Linux".
func osPrettyName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "Linux"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
			return strings.Trim(v, `"'`)
		}
	}
	return "Linux"
}

// memTotal is MemTotal from /proc/meminfo in bytes, or 0.
func memTotal() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}
