package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
)

// statsInterval is how often a stats stream samples, as Docker's.
const statsInterval = time.Second

// containerStats answers GET /containers/{id}/stats?stream=&one-shot=:
// one sample a second from the container's cgroup (v2) and network
// namespace while it runs; with stream=false one sample, with the
// previous one a second earlier (so that the CLI can compute CPU %)
// unless one-shot.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	stream := r.URL.Query().Get("stream") == "" || boolParam(r, "stream")
	oneShot := boolParam(r, "one-shot")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	rc := http.NewResponseController(w)
	prev, _ := s.statsSample(info.Spec.ID)
	if !stream && oneShot {
		return enc.Encode(prev)
	}
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-time.After(statsInterval):
		}
		cur, running := s.statsSample(info.Spec.ID)
		cur.PreCPUStats, cur.PreRead = prev.CPUStats, prev.Read
		if err := enc.Encode(cur); err != nil || !stream {
			return err
		}
		rc.Flush()
		if !running {
			return nil // stopped: Docker ends the stream too
		}
		prev = cur
	}
}

// statsSample reads one sample and says whether the container runs; one
// that does not has only its id, name and the time.
func (s *Server) statsSample(id string) (ctypes.StatsResponse, bool) {
	out := ctypes.StatsResponse{ID: id, OSType: "linux", Read: time.Now().UTC()}
	rt, err := s.containerRuntime()
	if err != nil {
		return out, false
	}
	info, err := rt.Get(id)
	if err != nil {
		return out, false
	}
	out.Name = "/" + info.Spec.Name
	if !info.State.Running() || info.State.Pid == 0 {
		return out, false
	}
	dir, err := container.CgroupDir(id)
	if err != nil {
		return out, true
	}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	pids := cgroupPids(dir)
	cpu := parseFlatKeyed(read("cpu.stat"))
	out.CPUStats = ctypes.CPUStats{
		CPUUsage: ctypes.CPUUsage{
			TotalUsage:        cpu["usage_usec"] * 1000,
			UsageInUsermode:   cpu["user_usec"] * 1000,
			UsageInKernelmode: cpu["system_usec"] * 1000,
		},
		ThrottlingData: ctypes.ThrottlingData{
			Periods: cpu["nr_periods"], ThrottledPeriods: cpu["nr_throttled"], ThrottledTime: cpu["throttled_usec"] * 1000,
		},
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		out.CPUStats.SystemUsage, out.CPUStats.OnlineCPUs = parseSystemCPU(string(b))
	}
	out.MemoryStats = memoryStats(read, pids)
	if cur := strings.TrimSpace(read("pids.current")); cur != "" {
		out.PidsStats.Current, _ = strconv.ParseUint(cur, 10, 64)
	} else {
		out.PidsStats.Current = uint64(len(pids))
	}
	out.PidsStats.Limit = parseLimit(read("pids.max"))
	out.BlkioStats = parseIOStat(read("io.stat"))
	if info.Spec.NetworkMode != container.NetworkHost {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/dev", info.State.Pid)); err == nil {
			out.Networks = parseNetDev(string(b))
		}
	}
	return out, true
}

// memoryStats reads the memory controller's files; where it is not
// enabled for v2 (a hybrid cgroup host), the usage is the resident
// memory of the container's processes.
func memoryStats(read func(string) string, pids []int) ctypes.MemoryStats {
	var m ctypes.MemoryStats
	if cur := strings.TrimSpace(read("memory.current")); cur != "" {
		m.Usage, _ = strconv.ParseUint(cur, 10, 64)
		m.Stats = parseFlatKeyed(read("memory.stat"))
		m.Limit = parseLimit(read("memory.max"))
	} else {
		page := uint64(os.Getpagesize())
		for _, pid := range pids {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
			if f := strings.Fields(string(b)); err == nil && len(f) > 1 {
				rss, _ := strconv.ParseUint(f[1], 10, 64)
				m.Usage += rss * page
			}
		}
	}
	if m.Limit == 0 {
		m.Limit = uint64(memTotal())
	}
	return m
}

// cgroupPids lists the processes of a cgroup.
func cgroupPids(dir string) []int {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}
