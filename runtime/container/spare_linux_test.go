package container

import (
	"context"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testwait"
)

// TestSpareRefill: the spare a start took is made again once the
// container has ended, or when another container is created, not while
// the container starts and runs its first moments.
func TestSpareRefill(t *testing.T) {
	rt := newTestRuntime(t)
	defer func(d time.Duration) { spareDelay = d }(spareDelay)
	spareDelay = time.Hour
	hasSpare := func() bool {
		rt.mu.Lock()
		defer rt.mu.Unlock()
		return rt.spare != nil
	}
	long := startDetached(t, rt, "exec sleep 60", nil)
	time.Sleep(time.Second)
	if hasSpare() {
		t.Fatal("a spare was made while the container that took the last one runs its first moments")
	}
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, Args: []string{"true"}}
	if _, err := rt.Create(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	testwait.Until(t, 20*time.Second, "a spare after a create", hasSpare)

	// A short run: its spare is made once it has ended.
	rt.mu.Lock()
	rt.spare.sock.Close() // the spare exits
	rt.spare = nil
	rt.mu.Unlock()
	res := runContainer(t, rt, ImageConfig{}, sh("true"), nil)
	if res.startErr != nil {
		t.Fatal(res.startErr)
	}
	testwait.Until(t, 20*time.Second, "a spare after the run ended", hasSpare)
	if err := rt.Remove(context.Background(), long, true); err != nil {
		t.Fatal(err)
	}
}
