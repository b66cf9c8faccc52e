package server

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testnetns"
)

// cpuOfSelf is this process's user+system CPU time: the agent's, as the
// tests serve it in process.
func cpuOfSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestIdleCPU measures the agent's CPU time over an idle period with 10
// running containers, first plain, then each with a healthcheck (Docker's
// default 30 s interval) and an /events subscriber following them, and
// prints both figures for BENCHMARKS.md. It runs only when asked
// (BERTH_IDLE_CPU_SECONDS, e.g. 60, from make bench): it measures, it
// does not check a target.
func TestIdleCPU(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("BERTH_IDLE_CPU_SECONDS"))
	if secs <= 0 {
		t.Skip("a measurement: set BERTH_IDLE_CPU_SECONDS (make bench does)")
	}
	if testnetns.Reexec(t) {
		return
	}
	a := startAgent(t, func(o *Options) { o.Bridge = true })
	measure := func(what string, args ...string) {
		for i := range 10 {
			run := append([]string{"run", "-d", "--name", fmt.Sprintf("%s%d", what, i)}, args...)
			if _, errOut, code := docker(t, a.sock, "", append(run, "busybox", "sleep", "3600")...); code != 0 {
				t.Fatalf("docker run: %s", errOut)
			}
		}
		time.Sleep(2 * time.Second) // starts settle: measured is the idle time after
		before := cpuOfSelf()
		time.Sleep(time.Duration(secs) * time.Second) // the measured idle period itself
		used := cpuOfSelf() - before
		t.Logf("BENCH idle agent CPU, 10 %s containers over %d s: %v (%.2f%% of one core)", what, secs, used.Round(time.Millisecond), 100*used.Seconds()/float64(secs))
		for i := range 10 {
			docker(t, a.sock, "", "rm", "-f", fmt.Sprintf("%s%d", what, i))
		}
	}
	measure("plain")
	events := startEvents(t, a.sock)
	defer events()
	measure("health", "--health-cmd", "true", "--health-interval", "30s")
}

// startEvents follows the agent's events with the docker CLI until the
// returned func is called.
func startEvents(t *testing.T, sock string) (stop func()) {
	t.Helper()
	cmd := exec.Command("docker", "-H", "unix://"+sock, "events")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() { cmd.Process.Kill(); cmd.Wait() }
}
