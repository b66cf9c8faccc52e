package container

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testwait"
)

// limitsAvailable reports whether this host's cgroup v2 hierarchy offers
// the controllers the limits need (a pure cgroup v2 system such as
// berth-os; not a hybrid v1/v2 host).
func limitsAvailable() bool {
	c, err := CgroupControllers()
	return err == nil && c["memory"] && c["pids"] && c["cpu"]
}

// TestLimits checks --memory (OOM kill reported), --pids-limit (a fork
// bomb is contained) and --cpus. Where the host keeps its controllers in
// cgroup v1, it runs inside a berth-os VM (see limits_vm_linux_test.go).
func TestLimits(t *testing.T) {
	if !limitsAvailable() {
		runInVM(t, "^TestLimits$")
		return
	}
	rt := newTestRuntime(t)
	t.Run("memory limit OOM-kills", func(t *testing.T) {
		res := runContainer(t, rt, ImageConfig{}, sh("cat /sys/fs/cgroup/memory.max; exec dd if=/dev/zero of=/dev/null bs=200M count=1"),
			func(s *Spec) { s.Resources.Memory = 32 << 20 })
		if res.stdout != "33554432\n" || res.state.ExitCode != 137 || !res.state.OOMKilled {
			t.Errorf("output %q, state %+v; want memory.max 33554432, exit 137 and OOMKilled", res.stdout, res.state)
		}
	})
	t.Run("pids limit stops a fork bomb", func(t *testing.T) {
		script := `bomb() { bomb | bomb & }; bomb 2>/dev/null; sleep 2
read cur < /sys/fs/cgroup/pids.current; read max < /sys/fs/cgroup/pids.max; read ev < /sys/fs/cgroup/pids.events
echo "$cur $max $ev"`
		res := runContainer(t, rt, ImageConfig{}, sh(script), func(s *Spec) { s.Resources.PidsLimit = 30 })
		f := strings.Fields(res.stdout)
		if len(f) != 4 || f[1] != "30" || f[2] != "max" || f[3] == "0" {
			t.Errorf("pids.current pids.max pids.events = %q; want the limit 30 hit (stderr %q)", res.stdout, res.stderr)
		}
	})
	t.Run("cpus", func(t *testing.T) {
		res := runContainer(t, rt, ImageConfig{}, sh("cat /sys/fs/cgroup/cpu.max"), func(s *Spec) { s.Resources.NanoCPUs = 5e8 })
		if res.stdout != "50000 100000\n" {
			t.Errorf("cpu.max = %q, want %q", res.stdout, "50000 100000\n")
		}
	})
}

// TestRunRemoveLeavesNothing runs and removes 200 containers and checks
// that no mount, cgroup, monitor or container folder is left.
func TestRunRemoveLeavesNothing(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	mountsBefore := mountsUnder(t, rt.dir)
	monitorsBefore := countMonitors(t, rt.dir)
	// The count sees a running container's monitor.
	live := Spec{ID: NewID(), LowerDirs: []string{busyboxRootfs(t)}, Args: []string{"sleep", "60"}, Env: []string{"PATH=" + DefaultPath}, WorkingDir: "/"}
	if _, err := rt.Create(ctx, live); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, live.ID); err != nil {
		t.Fatal(err)
	}
	if got := countMonitors(t, rt.dir); got != monitorsBefore+1 {
		t.Fatalf("monitor processes with one container running: %d, want %d", got, monitorsBefore+1)
	}
	if err := rt.Remove(ctx, live.ID, true); err != nil {
		t.Fatal(err)
	}
	n := 200
	if testing.Short() {
		n = 20
	}
	var ids []string
	for i := 0; i < n; i++ {
		res := runContainer(t, rt, ImageConfig{}, sh("echo $$"), nil)
		ids = append(ids, res.id)
		if res.stdout != "1\n" {
			t.Fatalf("run %d: output %q", i, res.stdout)
		}
		if err := rt.Remove(ctx, res.id, false); err != nil {
			t.Fatalf("rm %d: %v", i, err)
		}
	}
	if got := mountsUnder(t, rt.dir); got != mountsBefore {
		t.Errorf("mounts: %d before, %d after %d run/rm cycles", mountsBefore, got, n)
	}
	// The last monitor ends a moment after its container's removal.
	err := testwait.Poll(context.Background(), 5*time.Second, func() error {
		if got := countMonitors(t, rt.dir); got != monitorsBefore {
			return fmt.Errorf("%d monitor processes", got)
		}
		return nil
	})
	if err != nil {
		t.Errorf("%v 5 s after %d run/rm cycles, %d before", err, n, monitorsBefore)
	}
	root, err := CgroupRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(root, cgroupParent, id)); err == nil {
			t.Errorf("cgroup of removed container %s left", id[:12])
		}
	}
	des, _ := os.ReadDir(rt.dir)
	des = slices.DeleteFunc(des, func(de os.DirEntry) bool { return de.Name() == defaultFilterFile })
	if len(des) != 0 {
		t.Errorf("%d container folders left", len(des))
	}
	if got := len(rt.List()); got != 0 {
		t.Errorf("%d containers listed after removing all", got)
	}
}

// mountsUnder counts the mounts at or below dir in this mount namespace
// (other tests on the host may mount elsewhere meanwhile).
func mountsUnder(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(fields[4]+"/", dir+"/") {
			n++
		}
	}
	return n
}

// countMonitors counts the live monitors of containers under dir: monitor
// processes holding a file there open (spare monitors hold none).
func countMonitors(t *testing.T, dir string) int {
	t.Helper()
	des, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, de := range des {
		b, err := os.ReadFile(filepath.Join("/proc", de.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(b), monitorCommand+"\x00") {
			continue
		}
		fds, _ := os.ReadDir(filepath.Join("/proc", de.Name(), "fd"))
		for _, fd := range fds {
			if target, _ := os.Readlink(filepath.Join("/proc", de.Name(), "fd", fd.Name())); strings.HasPrefix(target, dir+"/") {
				n++
				break
			}
		}
	}
	return n
}
