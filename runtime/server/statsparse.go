package server

import (
	"strconv"
	"strings"

	ctypes "github.com/moby/moby/api/types/container"
)

// parseFlatKeyed reads a cgroup v2 flat keyed file ("key value" lines:
// memory.stat, cpu.stat).
func parseFlatKeyed(s string) map[string]uint64 {
	out := map[string]uint64{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			out[k] = n
		}
	}
	return out
}

// parseLimit reads a cgroup limit file ("max" or a number); 0 is none.
func parseLimit(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	return n
}

// parseIOStat turns io.stat ("MAJ:MIN rbytes=.. wbytes=.. rios=.. wios=..")
// into Docker's blkio entries for cgroup v2: bytes and operations, with
// lower-case ops as Docker writes them.
func parseIOStat(s string) ctypes.BlkioStats {
	var out ctypes.BlkioStats
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		majS, minS, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		maj, _ := strconv.ParseUint(majS, 10, 64)
		min, _ := strconv.ParseUint(minS, 10, 64)
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				continue
			}
			e := ctypes.BlkioStatEntry{Major: maj, Minor: min, Value: n}
			switch k {
			case "rbytes", "wbytes":
				e.Op = ioOp(k)
				out.IoServiceBytesRecursive = append(out.IoServiceBytesRecursive, e)
			case "rios", "wios":
				e.Op = ioOp(k)
				out.IoServicedRecursive = append(out.IoServicedRecursive, e)
			}
		}
	}
	return out
}

// ioOp is Docker's op name of an io.stat key: read or write.
func ioOp(key string) string {
	if key[0] == 'r' {
		return "read"
	}
	return "write"
}

// parseNetDev reads /proc/PID/net/dev: the counters of each interface of
// the process's network namespace but the loopback.
func parseNetDev(s string) map[string]ctypes.NetworkStats {
	out := map[string]ctypes.NetworkStats{}
	for _, line := range strings.Split(s, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "lo" || strings.Contains(name, "|") {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 16 {
			continue
		}
		n := make([]uint64, 16)
		for i := range n {
			n[i], _ = strconv.ParseUint(f[i], 10, 64)
		}
		out[name] = ctypes.NetworkStats{
			RxBytes: n[0], RxPackets: n[1], RxErrors: n[2], RxDropped: n[3],
			TxBytes: n[8], TxPackets: n[9], TxErrors: n[10], TxDropped: n[11],
		}
	}
	return out
}

// parseSystemCPU reads /proc/stat: the machine's CPU time in nanoseconds
// from its "cpu" line (in ticks of 1/100 s), as Docker's
// system_cpu_usage, and the number of CPUs that time is spread over.
func parseSystemCPU(s string) (uint64, uint32) {
	var total uint64
	var cpus uint32
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		if f[0] != "cpu" {
			cpus++
			continue
		}
		for _, v := range f[1:] {
			n, _ := strconv.ParseUint(v, 10, 64)
			total += n
		}
	}
	return total * (1e9 / clockTicks), cpus
}

// clockTicks is USER_HZ, the unit of /proc/stat and /proc/PID/stat times:
// 100 on every Linux architecture berth runs on.
const clockTicks = 100
