package teamenv

import (
	"fmt"
	"runtime"

	units "github.com/docker/go-units"
)

// Host is what this computer has, for CheckHost.
type Host struct {
	CPUs        int
	MemoryBytes int64 // 0: unknown
}

// ThisHost reads this computer's CPUs and memory.
func ThisHost() Host { return Host{CPUs: runtime.NumCPU(), MemoryBytes: hostMemory()} }

// CheckHost returns a Problem for each machine that asks for more CPUs
// than host has, and one when the machines together ask for more memory
// than it has. Only the named machines count (all when names is empty).
func CheckHost(env *Env, host Host, names []string) error {
	var probs Problems
	var total int64
	var who []string
	for _, n := range env.Names() {
		if len(names) > 0 && !contains(names, n) {
			continue
		}
		m := env.Machines[n]
		w := m.Want()
		if host.CPUs > 0 && w.CPUs > host.CPUs {
			probs = append(probs, Problem{File: env.File, Line: m.lineOf("cpus"), Key: "machines." + n + ".cpus",
				Msg: fmt.Sprintf("%d CPUs asked, this computer has %d (lower it, for you alone, in %s)", w.CPUs, host.CPUs, OverrideName)})
		}
		total += int64(w.MemoryMB) << 20
		who = append(who, fmt.Sprintf("%s %s", n, mb(w.MemoryMB)))
	}
	if host.MemoryBytes > 0 && total > host.MemoryBytes {
		probs = append(probs, Problem{File: env.File, Key: "machines.*.memory",
			Msg: fmt.Sprintf("the machines ask for %s of memory together (%v), this computer has %s (lower it, for you alone, in %s)",
				units.BytesSize(float64(total)), who, units.BytesSize(float64(host.MemoryBytes)), OverrideName)})
	}
	if len(probs) > 0 {
		return probs
	}
	return nil
}

func (m *Machine) lineOf(key string) int {
	if l := m.lines[key]; l > 0 {
		return l
	}
	return m.Line
}
