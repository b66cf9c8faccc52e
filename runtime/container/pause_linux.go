package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Pause errors.
var (
	ErrPaused    = errors.New("container is paused")
	ErrNotPaused = errors.New("container is not paused")
)

// Event actions of pause and unpause, as Docker names them.
const (
	ActionPause   = "pause"
	ActionUnpause = "unpause"
)

// CgroupDir is the cgroup of the container's current run.
func CgroupDir(id string) (string, error) {
	root, err := CgroupRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, cgroupParent, id), nil
}

// frozen reports whether the container's cgroup is frozen.
func frozen(id string) bool {
	dir, err := CgroupDir(id)
	if err != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.freeze"))
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// withPause makes the status of a running container whose cgroup is
// frozen "paused".
func withPause(id string, st State) State {
	if st.Status == StatusRunning && frozen(id) {
		st.Status = StatusPaused
	}
	return st
}

// setFrozen freezes or thaws the container's cgroup (the cgroup v2
// freezer) and waits until every process is.
func setFrozen(ctx context.Context, id string, freeze bool) error {
	dir, err := CgroupDir(id)
	if err != nil {
		return err
	}
	v, want := "0", "frozen 0"
	if freeze {
		v, want = "1", "frozen 1"
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte(v), 0o644); err != nil {
		return fmt.Errorf("write %s/cgroup.freeze: %w", dir, err)
	}
	for i := 0; i < 500; i++ {
		b, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
		if err != nil || strings.Contains(string(b), want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("cgroup %s: not %s after 5s", dir, want)
}

// Pause freezes every process of a running container.
func (r *Runtime) Pause(ctx context.Context, ref string) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	st, _ := r.state(e.spec().ID)
	switch withPause(e.spec().ID, st).Status {
	case StatusPaused:
		return fmt.Errorf("%w: container %s is already paused", ErrPaused, e.spec().ID)
	case StatusRunning:
	default:
		return fmt.Errorf("%w: container %s is not running", ErrNotRunning, e.spec().ID)
	}
	if err := setFrozen(ctx, e.spec().ID, true); err != nil {
		return fmt.Errorf("pause container %s: %w", e.spec().Name, err)
	}
	r.emit(ActionPause, e.spec(), nil)
	return nil
}

// Unpause thaws a paused container.
func (r *Runtime) Unpause(ctx context.Context, ref string) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	st, _ := r.state(e.spec().ID)
	if withPause(e.spec().ID, st).Status != StatusPaused {
		return fmt.Errorf("%w: container %s is not paused", ErrNotPaused, e.spec().ID)
	}
	if err := setFrozen(ctx, e.spec().ID, false); err != nil {
		return fmt.Errorf("unpause container %s: %w", e.spec().Name, err)
	}
	r.emit(ActionUnpause, e.spec(), nil)
	return nil
}

// thaw unfreezes a paused container before it is signalled, so that its
// processes see the signal (stop, kill, rm -f).
func (r *Runtime) thaw(id string) {
	if frozen(id) {
		setFrozen(context.Background(), id, false)
	}
}
