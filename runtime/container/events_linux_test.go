package container

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// eventLog collects a runtime's events.
type eventLog chan Event

func (l eventLog) add(e Event) { l <- e }

// expect reads the next len(want) events of container id (others are
// skipped) and compares "action attr=value..." with want, where only
// the attributes named in want are shown.
func (l eventLog) expect(t *testing.T, id string, want ...string) {
	t.Helper()
	var got []string
	timeout := time.After(30 * time.Second)
	for len(got) < len(want) {
		select {
		case e := <-l:
			if e.Spec.ID != id {
				continue
			}
			w := want[len(got)]
			s := e.Action
			for _, f := range strings.Fields(w)[1:] {
				k, _, _ := strings.Cut(f, "=")
				s += " " + k + "=" + e.Attributes[k]
			}
			got = append(got, s)
		case <-timeout:
			t.Fatalf("events so far %q, want %q", got, want)
		}
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("events %q, want %q", got, want)
	}
}

// TestEvents: the runtime tells of every step of a container's life in
// order, also of exits and restarts no client asked for.
func TestEvents(t *testing.T) {
	events := make(eventLog, 100)
	rt := newTestRuntime(t, WithEvents(events.add))
	ctx := context.Background()

	// Exits by itself, restarted once by its policy, then removed.
	id := startDetached(t, rt, "exit 3", func(s *Spec) { s.RestartPolicy = RestartPolicy{Name: "on-failure", MaximumRetryCount: 1} })
	events.expect(t, id, "create", "start", "die exitCode=3", "start", "die exitCode=3")
	if err := rt.Remove(ctx, id, false); err != nil {
		t.Fatal(err)
	}
	events.expect(t, id, "destroy")

	// Stop, restart, kill, remove.
	id = startDetached(t, rt, "trap 'exit 0' TERM; while true; do sleep 0.1; done", nil)
	events.expect(t, id, "create", "start")
	time.Sleep(100 * time.Millisecond) // let the trap be set
	if err := rt.Stop(ctx, id, 0, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	events.expect(t, id, "kill signal=15", "die exitCode=0", "stop")
	if err := rt.Restart(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	events.expect(t, id, "start", "restart")
	if err := rt.Kill(ctx, id, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	events.expect(t, id, "kill signal=9", "die exitCode=137")
	if err := rt.Kill(ctx, id, syscall.SIGKILL); err == nil {
		t.Error("kill of an exited container: no error")
	}
	if err := rt.Remove(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	events.expect(t, id, "destroy")
	select {
	case e := <-events:
		t.Errorf("unexpected event %s after destroy", e.Action)
	default:
	}
}
