package container

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestBenchSeccomp is the cost of Docker's default seccomp profile: the
// start-to-exit time of `true`, and of a loop of 1,000,000 one-byte reads
// and writes (dd bs=1: 2,000,000 syscalls through the filter), with the
// profile and with seccomp=unconfined, taking turns run by run. It runs
// only with BERTH_BENCH=1.
func TestBenchSeccomp(t *testing.T) {
	if os.Getenv("BERTH_BENCH") != "1" {
		t.Skip("benchmark: BERTH_BENCH=1 go test -run TestBenchSeccomp -v ./runtime/container")
	}
	n := benchRuns()
	rt := newTestRuntime(t)
	rootfs := busyboxRootfs(t)
	ctx := context.Background()
	run := func(unconfined bool, args ...string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timeRun(ctx, rt, Spec{LowerDirs: []string{rootfs}, Args: args, SeccompUnconfined: unconfined})
		}
	}
	dd := []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1000000"}
	runners := []*benchRunner{
		{name: "true, default seccomp profile", runs: n, fn: run(false, "true")},
		{name: "true, seccomp=unconfined", runs: n, fn: run(true, "true")},
		{name: "dd bs=1 x1e6, default profile", runs: max(n/3, 3), fn: run(false, dd...)},
		{name: "dd bs=1 x1e6, unconfined", runs: max(n/3, 3), fn: run(true, dd...)},
	}
	runRounds(t, runners)
	for _, r := range runners {
		report(t, r.name, r.took)
	}
}
