package container

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSeccomp is the cost of Docker's default seccomp profile: the
// start-to-exit time of `true`, and of a loop of 1,000,000 one-byte reads
// and writes (dd bs=1: 2,000,000 syscalls through the filter), with the
// profile and with seccomp=unconfined, taking turns (see runRounds; dd
// makes one timed run a round).
//
//	go test -run '^$' -bench '^BenchmarkSeccomp$' -benchtime 15x ./runtime/container
func BenchmarkSeccomp(b *testing.B) {
	rt := newTestRuntime(b)
	rootfs := busyboxRootfs(b)
	ctx := context.Background()
	run := func(unconfined bool, args ...string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			return timeRun(ctx, rt, Spec{LowerDirs: []string{rootfs}, Args: args, SeccompUnconfined: unconfined})
		}
	}
	dd := []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=1", "count=1000000"}
	runRounds(b, []*benchRunner{
		{name: "true, default seccomp profile", unit: "true-default", fn: run(false, "true")},
		{name: "true, seccomp=unconfined", unit: "true-unconfined", fn: run(true, "true")},
		{name: "dd bs=1 x1e6, default profile", unit: "dd-default", block: 1, fn: run(false, dd...)},
		{name: "dd bs=1 x1e6, unconfined", unit: "dd-unconfined", block: 1, fn: run(true, dd...)},
	})
}
