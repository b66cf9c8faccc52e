package container

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestHealthResumesAfterAgentRestart: a new Runtime on the folder (an
// agent restart) goes on checking the running containers, from the health
// they had; stop ends the checks.
func TestHealthResumesAfterAgentRestart(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	id := startDetached(t, rt, "sleep 300", func(s *Spec) {
		s.Healthcheck = &HealthConfig{Test: []string{"CMD-SHELL", "echo ok"}, Interval: 100 * time.Millisecond}
	})
	waitHealth := func(rt *Runtime, what string, ok func(*Health) bool) *Health {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			h := rt.Health(id)
			if h != nil && ok(h) {
				return h
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: health %+v", what, h)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitHealth(rt, "healthy", func(h *Health) bool { return h.Status == HealthHealthy && h.Log[0].Output == "ok\n" })
	rt.stopHealth(id) // the old agent is gone

	rt2, err := New(ctx, rt.dir)
	if err != nil {
		t.Fatal(err)
	}
	last := rt2.Health(id).Log
	waitHealth(rt2, "checks after the restart", func(h *Health) bool {
		return h.Status == HealthHealthy && h.Log[len(h.Log)-1].Start.After(last[len(last)-1].Start)
	})
	if err := rt2.Stop(ctx, id, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	n := rt2.Health(id)
	time.Sleep(400 * time.Millisecond)
	if m := rt2.Health(id); len(m.Log) != len(n.Log) || !m.Log[len(m.Log)-1].Start.Equal(n.Log[len(n.Log)-1].Start) {
		t.Errorf("checks went on after stop: %+v then %+v", n.Log, m.Log)
	}
	rt2.health.mu.Lock()
	left := len(rt2.health.checks)
	rt2.health.mu.Unlock()
	if left != 0 {
		t.Errorf("%d health timers left after stop", left)
	}
}

// TestHealthTimeoutBeforeStart: a timeout shorter than starting the
// check still ends it (a timer that looked for the check's pid missed a
// check not running yet, which then ran to its end).
func TestHealthTimeoutBeforeStart(t *testing.T) {
	rt := newTestRuntime(t)
	var spec Spec
	startDetached(t, rt, "sleep 300", func(s *Spec) { spec = *s })
	spec.Healthcheck = &HealthConfig{Test: []string{"CMD-SHELL", "sleep 30"}, Timeout: time.Millisecond}
	t0 := time.Now()
	res := rt.runHealthCheck(spec)
	if d := time.Since(t0); d > 10*time.Second {
		t.Errorf("a check with a 1 ms timeout took %v", d)
	}
	if res.ExitCode != -1 || !strings.Contains(res.Output, "exceeded timeout") {
		t.Errorf("timed-out check = %+v, want exit -1 and the timeout said", res)
	}
}
