package container

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStopEndsRestartBackoff: a container waiting out its restart back-off
// (here 25.6 s, the back-off after 8 restarts) stops at once, not when the
// back-off ends.
func TestStopEndsRestartBackoff(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, RestartPolicy: RestartPolicy{Name: "always"}}
	if err := spec.ApplyConfig(ImageConfig{}, sh("exit 1")); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	// As if it had restarted 8 times already.
	if err := writeJSON(filepath.Join(rt.cdir(spec.ID), stateFile), State{Status: StatusCreated, RestartCount: 8}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx, spec.ID); err != nil {
		t.Fatal(err)
	}
	waitState(t, rt, spec.ID, "restarting (in its back-off)", func(st State) bool {
		return st.Status == StatusRestarting && st.RestartCount == 9
	})
	if err := rt.Stop(ctx, spec.ID, 0, time.Second); err != nil {
		t.Fatal(err)
	}
	// Stop waits (up to 10 s) for the monitor to end; the back-off would
	// keep it 25.6 s.
	st, _ := rt.state(spec.ID)
	if st.Status != StatusExited {
		t.Errorf("right after stop the container is %q, want exited: the stop waited on the restart back-off", st.Status)
	}
}

// TestStateSaveFailureFailsStart: when the monitor cannot save the
// running state (state.json cannot be replaced), the start fails with that
// error and the container does not run behind the agent's back.
func TestStateSaveFailureFailsStart(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}}
	if err := spec.ApplyConfig(ImageConfig{}, sh("sleep 1000")); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Create(ctx, spec); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(rt.cdir(spec.ID), stateFile)
	// An immutable file cannot be replaced by a rename, even by root.
	if out, err := exec.Command("chattr", "+i", state).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i %s: %v: %s", state, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", state).Run() })
	err := rt.Start(ctx, spec.ID)
	if err == nil || !strings.Contains(err.Error(), "save container state") {
		t.Fatalf("start with an unwritable state.json: err = %v, want the state save error", err)
	}
	if st, _ := rt.state(spec.ID); st.Running() {
		t.Errorf("state after the failed start: %+v", st)
	}
	out, _ := exec.Command("pgrep", "-f", "sleep 1000").Output()
	for _, pid := range strings.Fields(string(out)) {
		cg, _ := exec.Command("cat", "/proc/"+pid+"/cgroup").Output()
		if strings.Contains(string(cg), spec.ID) {
			t.Errorf("the container's process %s still runs after its start failed", pid)
		}
	}
}
