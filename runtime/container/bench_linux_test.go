package container

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	profiles "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthvm/berth/internal/testimages"
)

// BenchmarkCompare measures start-to-exit of `true` in busybox with this
// runtime, runc and crun (same unpacked rootfs), taking turns (see
// runRounds), then docker run --rm (same image) on the machine's Docker
// Engine in a phase of its own. scripts/bench-containers.sh runs it:
//
//	go test -run '^$' -bench '^BenchmarkCompare$' -benchtime 8x ./runtime/container
func BenchmarkCompare(b *testing.B) {
	rt := newTestRuntime(b)
	rootfs := busyboxRootfs(b)
	ctx := context.Background()

	berthRun := func(unconfined bool) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timeRun(ctx, rt, Spec{LowerDirs: []string{rootfs}, Args: []string{"true"}, SeccompUnconfined: unconfined})
		}
	}
	// berth runs Docker's default seccomp profile, as docker run does;
	// runc's default spec (runc spec) and crun here run without one, so
	// berth also runs unconfined for the like-for-like figure.
	runners := []*benchRunner{
		{name: "berth runtime (create+start+wait)", unit: "berth", fn: berthRun(false)},
		{name: "berth runtime, seccomp=unconfined", unit: "berth-unconfined", fn: berthRun(true)},
	}
	if _, err := exec.LookPath("runc"); err == nil {
		bundle := ociBundle(b, rootfs, false)
		i := 0
		runners = append(runners, &benchRunner{name: "runc run (same rootfs)", unit: "runc", fn: func() (time.Duration, error) {
			i++
			start := time.Now()
			out, err := exec.Command("runc", "run", "-b", bundle, fmt.Sprintf("berth-bench-%d-%d", os.Getpid(), i)).CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("runc run: %v %s", err, out)
			}
			return time.Since(start), nil
		}})
	} else {
		b.Log("runc: not installed (apt-get install runc)")
	}
	if _, err := exec.LookPath("crun"); err == nil {
		runners = append(runners,
			&benchRunner{name: "crun run (same rootfs)", unit: "crun", fn: crunRunner(b, ociBundle(b, rootfs, false))},
			&benchRunner{name: "crun run, Docker's seccomp profile", unit: "crun-seccomp", fn: crunRunner(b, ociBundle(b, rootfs, true))})
	} else {
		b.Log("crun: not installed (apt-get install crun)")
	}
	var berth time.Duration
	b.Run("runtimes", func(b *testing.B) {
		runRounds(b, runners)
		berth = median(runners[0].took)
		for _, r := range runners[1:] {
			b.Logf("BENCH berth vs %-30s %.2fx (their median / berth's)", r.name, float64(median(r.took))/float64(berth))
		}
	})
	// Docker runs in a phase of its own: its daemon mounts each
	// container's root in this host's mount table, and a changed table
	// (rightly) makes berth's spare monitor drop its pre-cloned init; in a
	// berth machine no other engine mounts meanwhile.
	b.Run("docker", func(b *testing.B) {
		if _, err := exec.LookPath("docker"); err != nil || exec.Command("docker", "version").Run() != nil {
			b.Skip("docker: the Docker Engine does not answer; not measured")
		}
		img, err := testimages.Busybox()
		if err != nil {
			b.Fatal(err)
		}
		var archive bytes.Buffer
		if err := testimages.WriteDockerArchive(&archive, map[string]v1.Image{"berthbench/busybox:latest": img}); err != nil {
			b.Fatal(err)
		}
		load := exec.Command("docker", "load")
		load.Stdin = &archive
		if out, err := load.CombinedOutput(); err != nil {
			b.Fatalf("docker load: %v %s", err, out)
		}
		b.Cleanup(func() { exec.Command("docker", "rmi", "berthbench/busybox").Run() })
		docker := &benchRunner{name: "docker run --rm (same image)", unit: "docker", block: 1, fn: func() (time.Duration, error) {
			start := time.Now()
			out, err := exec.Command("docker", "run", "--rm", "berthbench/busybox", "true").CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("docker run: %v %s", err, out)
			}
			return time.Since(start), nil
		}}
		runRounds(b, []*benchRunner{docker})
		if berth > 0 {
			b.Logf("BENCH berth vs %-30s %.2fx (their median / berth's)", docker.name, float64(median(docker.took))/float64(berth))
		}
	})
}

// BenchmarkStartConcurrent starts 50 containers at once and removes them
// (rm -f), and reports the time of each and the memory (Pss) of the agent
// (this process) and of the containers' monitors.
//
//	go test -run '^$' -bench '^BenchmarkStartConcurrent$' -benchtime 1x ./runtime/container
func BenchmarkStartConcurrent(b *testing.B) {
	const many = 50
	rt := newTestRuntime(b)
	rootfs := busyboxRootfs(b)
	ctx := context.Background()
	var started, removed time.Duration
	var agentPss, monPss int
	for b.Loop() {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, many)
		for range many {
			wg.Go(func() {
				spec := Spec{ID: NewID(), LowerDirs: []string{rootfs}, Args: []string{"sleep", "60"}, Env: []string{"PATH=" + DefaultPath}, WorkingDir: "/"}
				info, err := rt.Create(ctx, spec)
				if err == nil {
					err = rt.Start(ctx, info.Spec.ID)
				}
				errs <- err
			})
		}
		wg.Wait()
		started += time.Since(start)
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatalf("start of one of %d: %v", many, err)
			}
		}
		running := 0
		agentPss += pssKB(os.Getpid())
		for _, c := range rt.List() {
			if c.State.Status == StatusRunning {
				running++
			}
			monPss += pssKB(c.State.MonitorPid)
		}
		if running != many {
			b.Fatalf("%d of %d containers run", running, many)
		}
		start = time.Now()
		for _, c := range rt.List() {
			rt.Remove(ctx, c.Spec.ID, true)
		}
		removed += time.Since(start)
	}
	n := float64(b.N)
	b.ReportMetric(ms(started)/n, "start50-ms")
	b.ReportMetric(ms(removed)/n, "rm50-ms")
	b.ReportMetric(float64(agentPss)/n, "agent-Pss-KiB")
	b.ReportMetric(float64(monPss)/n/many, "monitor-Pss-KiB")
	b.ReportMetric(0, "ns/op")
}

// ociBundle makes an OCI bundle (runc's default spec) whose read-only root
// is a copy of rootfs and whose process is /bin/true; withSeccomp adds
// Docker's default seccomp profile for the spec's capabilities, as Docker
// hands it to runc.
func ociBundle(t testing.TB, rootfs string, withSeccomp bool) string {
	t.Helper()
	bundle := t.TempDir()
	if out, err := exec.Command("cp", "-a", rootfs, filepath.Join(bundle, "rootfs")).CombinedOutput(); err != nil {
		t.Fatalf("copy rootfs: %v %s", err, out)
	}
	if out, err := exec.Command("runc", "spec", "-b", bundle).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v %s", err, out)
	}
	path := filepath.Join(bundle, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	spec.Process.Terminal = false
	spec.Process.Args = []string{"/bin/true"}
	spec.Root = &specs.Root{Path: "rootfs", Readonly: true}
	if withSeccomp {
		if spec.Linux.Seccomp, err = profiles.GetDefaultProfile(&spec); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := json.Marshal(spec)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// crunScript runs crun once per line read, in a private mount namespace
// where cgroup2 is mounted at /sys/fs/cgroup: crun refuses this host's
// hybrid layout (v1 controllers plus a v2 hierarchy), and it is given no
// cgroup manager, because loading its cgroup v2 device filter needs
// CAP_SYS_RESOURCE, which this sandbox lacks. So crun makes no cgroup
// where berth and runc do: its figure is a lower bound. Each line printed
// is one run's wall time in microseconds, taken by bash around the exec,
// as Go's clock is around runc's.
const crunScript = `umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 1
while read -r id; do
  t0=$EPOCHREALTIME
  if out=$(crun --cgroup-manager=disabled run -b "$1" "$id" 2>&1); then
    t1=$EPOCHREALTIME
    echo $(( 10#${t1/./} - 10#${t0/./} ))
  else
    echo "error: $out" | tr '\n' ' '; echo
  fi
done`

// crunRunner starts crunScript and returns a runner that asks it for one
// run.
func crunRunner(t testing.TB, bundle string) func() (time.Duration, error) {
	t.Helper()
	cmd := exec.Command("unshare", "-m", "--propagation", "private", "bash", "-c", crunScript, "crun-bench", bundle)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	i := 0
	return func() (time.Duration, error) {
		i++
		fmt.Fprintf(in, "berth-bench-crun-%d-%d\n", os.Getpid(), i)
		if !lines.Scan() {
			return 0, fmt.Errorf("crun bench script ended: %v", lines.Err())
		}
		us, err := strconv.Atoi(lines.Text())
		if err != nil {
			return 0, fmt.Errorf("crun run: %s", lines.Text())
		}
		return time.Duration(us) * time.Microsecond, nil
	}
}

// benchRunner is one way of running a command in a container, timed.
type benchRunner struct {
	name  string // in the log
	unit  string // its metric, the median in ms: <unit>-ms
	block int    // timed runs a round; 0: 4
	fn    func() (time.Duration, error)
	took  []time.Duration
}

// runRounds runs the runners in turns, a round per b.Loop iteration
// (-benchtime 8x: 8 rounds, 32 timed runs of a runner with blocks of 4),
// and reports each runner's median in ms, and its figures in the log. In
// a round each runner, one later each round, makes an untimed run, then a
// block of timed ones: what the runner before left to the kernel (network
// namespaces it tears down after the exit, say) slows whoever comes next,
// and a runner's own leftovers are part of its figure.
func runRounds(b *testing.B, runners []*benchRunner) {
	b.Helper()
	for round := 0; b.Loop(); round++ {
		for i := range runners {
			r := runners[(round+i)%len(runners)]
			if _, err := r.fn(); err != nil {
				b.Fatalf("%s: %v", r.name, err)
			}
			for range cmp.Or(r.block, 4) {
				d, err := r.fn()
				if err != nil {
					b.Fatalf("%s: %v", r.name, err)
				}
				r.took = append(r.took, d)
			}
		}
	}
	for _, r := range runners {
		slices.Sort(r.took)
		report(b, r.name, r.took)
		b.ReportMetric(ms(median(r.took)), r.unit+"-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// timeRun creates, starts and waits for a container of spec (a new ID,
// DefaultPath and / filled in) and returns how long that took; the
// container is removed after, untimed. A non-zero exit and a failed
// removal are errors.
func timeRun(ctx context.Context, rt *Runtime, spec Spec) (took time.Duration, err error) {
	spec.ID, spec.Env, spec.WorkingDir = NewID(), append(spec.Env, "PATH="+DefaultPath), "/"
	start := time.Now()
	info, err := rt.Create(ctx, spec)
	if err != nil {
		return 0, err
	}
	defer func() {
		if rerr := rt.Remove(ctx, info.Spec.ID, true); err == nil {
			err = rerr
		}
	}()
	if err := rt.Start(ctx, info.Spec.ID); err != nil {
		return 0, err
	}
	st, err := rt.Wait(ctx, info.Spec.ID, WaitNotRunning)
	if err == nil && st.ExitCode != 0 {
		err = fmt.Errorf("%v exited %d", spec.Args, st.ExitCode)
	}
	return time.Since(start), err
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

func report(t testing.TB, name string, d []time.Duration) {
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
