package container

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berthvm/berth/internal/testimages"
)

// TestBenchCompare measures start-to-exit of `true` in busybox with this
// runtime, runc (same unpacked rootfs) and docker run --rm (same image),
// then 50 containers started at once. It runs only with BERTH_BENCH=1
// (scripts/bench-containers.sh) and prints the figures.
func TestBenchCompare(t *testing.T) {
	if os.Getenv("BERTH_BENCH") != "1" {
		t.Skip("benchmark: run scripts/bench-containers.sh (BERTH_BENCH=1)")
	}
	n, _ := strconv.Atoi(os.Getenv("BERTH_BENCH_N"))
	if n <= 0 {
		n = 30
	}
	rt := newTestRuntime(t)
	rootfs := busyboxRootfs(t)
	ctx := context.Background()

	berth := timeRuns(t, n, func() error {
		spec := Spec{ID: NewID(), LowerDirs: []string{rootfs}, Args: []string{"true"}, Env: []string{"PATH=" + DefaultPath}, WorkingDir: "/"}
		info, err := rt.Create(ctx, spec)
		if err != nil {
			return err
		}
		if err := rt.Start(ctx, info.Spec.ID); err != nil {
			return err
		}
		if _, err := rt.Wait(ctx, info.Spec.ID, WaitNotRunning); err != nil {
			return err
		}
		return nil
	})
	report(t, "berth runtime (create+start+wait)", berth)
	for _, c := range rt.List() {
		rt.Remove(ctx, c.Spec.ID, true)
	}

	if _, err := exec.LookPath("runc"); err == nil {
		bundle := t.TempDir()
		if out, err := exec.Command("cp", "-a", rootfs, filepath.Join(bundle, "rootfs")).CombinedOutput(); err != nil {
			t.Fatalf("copy rootfs: %v %s", err, out)
		}
		if out, err := exec.Command("runc", "spec", "-b", bundle).CombinedOutput(); err != nil {
			t.Fatalf("runc spec: %v %s", err, out)
		}
		editRuncSpec(t, filepath.Join(bundle, "config.json"))
		i := 0
		runc := timeRuns(t, n, func() error {
			i++
			out, err := exec.Command("runc", "run", "-b", bundle, fmt.Sprintf("berth-bench-%d-%d", os.Getpid(), i)).CombinedOutput()
			if err != nil {
				return fmt.Errorf("runc run: %v %s", err, out)
			}
			return nil
		})
		report(t, "runc run (same rootfs)", runc)
	} else {
		t.Log("runc: not installed")
	}
	if _, err := exec.LookPath("crun"); err == nil {
		t.Log("crun: installed, but refuses hybrid cgroup hosts like this one (see reference/qemu-and-guest.md); not measured")
	}

	if _, err := exec.LookPath("docker"); err == nil && exec.Command("docker", "version").Run() == nil {
		img, err := testimages.Busybox()
		if err != nil {
			t.Fatal(err)
		}
		var archive bytes.Buffer
		if err := testimages.WriteDockerArchive(&archive, map[string]v1.Image{"berthbench/busybox:latest": img}); err != nil {
			t.Fatal(err)
		}
		load := exec.Command("docker", "load")
		load.Stdin = &archive
		if out, err := load.CombinedOutput(); err != nil {
			t.Fatalf("docker load: %v %s", err, out)
		}
		dn := min(n, 10)
		docker := timeRuns(t, dn, func() error {
			out, err := exec.Command("docker", "run", "--rm", "berthbench/busybox", "true").CombinedOutput()
			if err != nil {
				return fmt.Errorf("docker run: %v %s", err, out)
			}
			return nil
		})
		report(t, "docker run --rm (same image)", docker)
		exec.Command("docker", "rmi", "berthbench/busybox").Run()
	} else {
		t.Log("docker: the Docker Engine does not answer; not measured")
	}

	// 50 containers started at once.
	const many = 50
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, many)
	for i := 0; i < many; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := Spec{ID: NewID(), LowerDirs: []string{rootfs}, Args: []string{"sleep", "60"}, Env: []string{"PATH=" + DefaultPath}, WorkingDir: "/"}
			info, err := rt.Create(ctx, spec)
			if err == nil {
				err = rt.Start(ctx, info.Spec.ID)
			}
			errs <- err
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("start of one of %d: %v", many, err)
		}
	}
	running := 0
	for _, c := range rt.List() {
		if c.State.Status == StatusRunning {
			running++
		}
	}
	agentPss := pssKB(os.Getpid())
	var monPss int
	for _, c := range rt.List() {
		monPss += pssKB(c.State.MonitorPid)
	}
	t.Logf("BENCH %d containers started concurrently: %v total, %d running; agent (this process) Pss %d KiB; monitors Pss %d KiB total (%d KiB each)",
		many, took.Round(time.Millisecond), running, agentPss, monPss, monPss/many)
	start = time.Now()
	for _, c := range rt.List() {
		rt.Remove(ctx, c.Spec.ID, true)
	}
	t.Logf("BENCH rm -f of %d running containers: %v", many, time.Since(start).Round(time.Millisecond))
}

func editRuncSpec(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec map[string]any
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	proc := spec["process"].(map[string]any)
	proc["terminal"] = false
	proc["args"] = []string{"/bin/true"}
	spec["root"] = map[string]any{"path": "rootfs", "readonly": true}
	out, _ := json.Marshal(spec)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func timeRuns(t *testing.T, n int, fn func() error) []time.Duration {
	t.Helper()
	if err := fn(); err != nil { // warm up
		t.Fatal(err)
	}
	var d []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

func report(t *testing.T, name string, d []time.Duration) {
	t.Helper()
	t.Logf("BENCH %-36s median %6.1f ms  min %6.1f ms  p90 %6.1f ms  (%d runs)", name,
		ms(d[len(d)/2]), ms(d[0]), ms(d[len(d)*9/10]), len(d))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pssKB is a process's proportional set size: shared pages (the sealed
// agent copy every monitor maps) count once across the processes.
func pssKB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Pss:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}
