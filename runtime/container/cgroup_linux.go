package container

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cgroupParent is the folder, under the cgroup v2 root, that holds one
// cgroup per container.
const cgroupParent = "berth"

// CgroupRoot returns where the cgroup v2 hierarchy is mounted: the
// /sys/fs/cgroup of a pure v2 system, or the v2 part of a hybrid layout
// (/sys/fs/cgroup/unified).
func CgroupRoot() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", fmt.Errorf("read mounts: %w", err)
	}
	defer f.Close()
	var found []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, fld := range fields {
			if fld == "-" && i+1 < len(fields) && fields[i+1] == "cgroup2" {
				found = append(found, fields[4])
			}
		}
	}
	for _, p := range found {
		if p == "/sys/fs/cgroup" {
			return p, nil
		}
	}
	if len(found) > 0 {
		return found[0], nil
	}
	return "", errors.New("no cgroup v2 hierarchy is mounted (mount -t cgroup2 none /sys/fs/cgroup)")
}

// CgroupControllers lists the controllers a container cgroup can use.
func CgroupControllers() (map[string]bool, error) {
	root, err := CgroupRoot()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(root, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("read cgroup controllers: %w", err)
	}
	out := map[string]bool{}
	for _, c := range strings.Fields(string(b)) {
		out[c] = true
	}
	return out, nil
}

// createCgroup makes the container's cgroup with its limits and returns
// its folder.
func createCgroup(id string, r Resources) (string, error) {
	root, err := CgroupRoot()
	if err != nil {
		return "", err
	}
	avail, err := CgroupControllers()
	if err != nil {
		return "", err
	}
	need := map[string]bool{"memory": r.Memory > 0, "cpu": r.NanoCPUs > 0, "pids": r.PidsLimit > 0}
	var missing []string
	for _, c := range []string{"memory", "cpu", "pids"} {
		if need[c] && !avail[c] {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("limits need the cgroup v2 controllers %s, which %s does not offer (a hybrid cgroup v1/v2 host keeps them in v1; boot with systemd.unified_cgroup_hierarchy=1)", strings.Join(missing, ", "), root)
	}
	parent := filepath.Join(root, cgroupParent)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", fmt.Errorf("create cgroup %s: %w", parent, err)
	}
	var enable []string
	for _, c := range []string{"cpu", "memory", "pids"} {
		if avail[c] {
			enable = append(enable, "+"+c)
		}
	}
	if len(enable) > 0 {
		ctl := strings.Join(enable, " ")
		for _, dir := range []string{root, parent} {
			if err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(ctl), 0o644); err != nil {
				return "", fmt.Errorf("enable cgroup controllers %q in %s: %w", ctl, dir, err)
			}
		}
	}
	dir := filepath.Join(parent, id)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	limits := [][2]string{}
	if r.Memory > 0 {
		m := strconv.FormatInt(r.Memory, 10)
		limits = append(limits, [2]string{"memory.max", m})
		if _, err := os.Stat(filepath.Join(dir, "memory.swap.max")); err == nil {
			limits = append(limits, [2]string{"memory.swap.max", m})
		}
	}
	if r.NanoCPUs > 0 {
		const period = 100000
		quota := r.NanoCPUs * period / 1e9
		limits = append(limits, [2]string{"cpu.max", fmt.Sprintf("%d %d", quota, period)})
	}
	if r.PidsLimit > 0 {
		limits = append(limits, [2]string{"pids.max", strconv.FormatInt(r.PidsLimit, 10)})
	}
	for _, l := range limits {
		if err := os.WriteFile(filepath.Join(dir, l[0]), []byte(l[1]), 0o644); err != nil {
			removeCgroup(dir)
			return "", fmt.Errorf("set %s to %s: %w", l[0], l[1], err)
		}
	}
	return dir, nil
}

// oomKilled reports whether the kernel OOM-killed a process of the cgroup.
func oomKilled(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "memory.events"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == "oom_kill" {
			n, _ := strconv.Atoi(v)
			return n > 0
		}
	}
	return false
}

// killCgroup kills every process of the cgroup.
func killCgroup(dir string) error {
	err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0o644)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// removeCgroup kills what is left in the cgroup and removes it.
func removeCgroup(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	killCgroup(dir)
	var err error
	for i := 0; i < 100; i++ {
		if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}
