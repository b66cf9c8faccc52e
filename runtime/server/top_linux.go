package server

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/berthvm/berth/runtime/container"
	ctypes "github.com/moby/moby/api/types/container"
)

// topTitles are the columns of ps -ef, docker top's default.
var topTitles = []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}

// containerTop answers GET /containers/{id}/top?ps_args=: the container's
// processes as ps -ef shows them, read from /proc; other ps_args run the
// machine's ps and keep the rows of the container's processes, as Docker
// does.
func (s *Server) containerTop(w http.ResponseWriter, r *http.Request) error {
	_, info, err := s.getContainer(r)
	if err != nil {
		return err
	}
	if !info.State.Running() {
		return Errorf(http.StatusConflict, "container %s is not running", info.Spec.ID)
	}
	dir, err := container.CgroupDir(info.Spec.ID)
	if err != nil {
		return err
	}
	pids := cgroupPids(dir)
	args := r.URL.Query().Get("ps_args")
	if args == "" || args == "-ef" {
		resp := ctypes.TopResponse{Titles: topTitles, Processes: [][]string{}}
		for _, pid := range pids {
			if row, err := psRow(pid, time.Now()); err == nil {
				resp.Processes = append(resp.Processes, row)
			}
		}
		return writeJSON(w, http.StatusOK, resp)
	}
	out, err := exec.CommandContext(r.Context(), "ps", strings.Fields(args)...).Output()
	if err != nil {
		return Errorf(http.StatusInternalServerError, "ps %s: %v", args, err)
	}
	resp, err := filterPS(string(out), pids)
	if err != nil {
		return WithStatus(http.StatusInternalServerError, err)
	}
	return writeJSON(w, http.StatusOK, resp)
}

// filterPS keeps the rows of ps output whose PID is one of pids.
func filterPS(out string, pids []int) (ctypes.TopResponse, error) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	titles := strings.Fields(lines[0])
	col := slices.Index(titles, "PID")
	if col < 0 {
		return ctypes.TopResponse{}, fmt.Errorf("couldn't find PID field in ps output")
	}
	resp := ctypes.TopResponse{Titles: titles, Processes: [][]string{}}
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) <= col {
			continue
		}
		pid, err := strconv.Atoi(f[col])
		if err != nil || !slices.Contains(pids, pid) {
			continue
		}
		// The last column (the command) may hold spaces.
		if len(f) > len(titles) {
			f = append(f[:len(titles)-1], strings.Join(f[len(titles)-1:], " "))
		}
		resp.Processes = append(resp.Processes, f)
	}
	return resp, nil
}

// psRow is one process as ps -ef shows it.
func psRow(pid int, now time.Time) ([]string, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return nil, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	comm := string(stat[bytes.IndexByte(stat, '(')+1 : i])
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3, the state
	if len(f) < 20 {
		return nil, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	num := func(field int) uint64 { n, _ := strconv.ParseUint(f[field-3], 10, 64); return n }
	ppid, ttyNr := num(4), num(7)
	cpuTicks := num(14) + num(15)
	started := bootTime().Add(time.Duration(num(22)) * time.Second / clockTicks)

	uid := ""
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				if fs := strings.Fields(v); len(fs) > 0 {
					uid = fs[0]
				}
			}
		}
	}
	if u, err := user.LookupId(uid); err == nil {
		uid = u.Username
	}
	c := 0
	if el := now.Sub(started).Seconds(); el > 0 {
		c = int(float64(cpuTicks) / clockTicks * 100 / el)
	}
	cmd := comm
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(b) > 0 {
		cmd = strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
	} else {
		cmd = "[" + comm + "]"
	}
	secs := cpuTicks / clockTicks
	return []string{
		uid, strconv.Itoa(pid), strconv.FormatUint(ppid, 10), strconv.Itoa(c),
		stime(started, now), ttyName(ttyNr),
		fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60), cmd,
	}, nil
}

// stime is ps's STIME: the time of day when today, else the date.
func stime(t, now time.Time) string {
	if now.Sub(t) < 24*time.Hour && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("Jan02")
}

// ttyName is ps's TTY of a tty_nr: pts/N, ttyN or "?".
func ttyName(nr uint64) string {
	major, minor := (nr>>8)&0xfff, (nr&0xff)|((nr>>12)&0xfff00)
	switch {
	case nr == 0:
		return "?"
	case major >= 136 && major <= 143:
		return fmt.Sprintf("pts/%d", (major-136)*256+minor)
	case major == 4:
		return fmt.Sprintf("tty%d", minor)
	}
	return "?"
}

// bootTime is when the machine booted (btime in /proc/stat).
func bootTime() time.Time {
	b, _ := os.ReadFile("/proc/stat")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return time.Unix(n, 0)
		}
	}
	return time.Time{}
}
