package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// A container's state.json is written by its monitor. When the disk is
// full that write fails, and the file goes on saying "running" after the
// process ended. The runtime then keeps the state it learned another way
// (the monitor's exit notice, or the monitor being gone) in memory, shows
// it instead of the stale file, and writes it to state.json once there is
// room.

// unsavedState is a state the runtime knows that state.json lacks.
type unsavedState struct {
	st State
	// monitorGone: no monitor runs for the container, so any running
	// status in the file (running, restarting, paused) of the same run is
	// stale, and the runtime may write the file itself. Otherwise only a
	// "running" of the same run is stale (the monitor may still save a
	// restart), and the file is the monitor's to write.
	monitorGone bool
}

// stale reports whether file, read from state.json, is older than u.
func (u unsavedState) stale(file State) bool {
	if !file.StartedAt.Equal(u.st.StartedAt) {
		return false
	}
	if u.monitorGone {
		return file.Running()
	}
	return file.Status == StatusRunning
}

// state is container id's state: state.json, unless the runtime knows
// a newer one the file lacks (see unsavedState), which it then tries to
// save again.
func (r *Runtime) state(id string) (State, error) {
	var st State
	path := filepath.Join(r.cdir(id), stateFile)
	err := readJSON(path, &st)
	r.unsavedMu.Lock()
	defer r.unsavedMu.Unlock()
	u, ok := r.unsaved[id]
	if !ok {
		return st, err
	}
	if err == nil && !u.stale(st) {
		delete(r.unsaved, id) // the file caught up, or a new run began
		return st, nil
	}
	if u.monitorGone && writeState(path, u.st) == nil {
		delete(r.unsaved, id)
	}
	return u.st, nil
}

// exitSeen is told by a container's watcher of each exit its monitor
// reports: when state.json still reads running for that run, the
// monitor could not save the exit.
func (r *Runtime) exitSeen(id string, exit State) {
	var file State
	if readJSON(filepath.Join(r.cdir(id), stateFile), &file) != nil {
		return
	}
	u := unsavedState{st: exit}
	if !u.stale(file) {
		return
	}
	r.unsavedMu.Lock()
	r.unsaved[id] = u
	r.unsavedMu.Unlock()
}

// monitorGone is told when container id's monitor ended (its watcher
// lost it) or was not found (after an agent restart). A state.json that
// still reads running is stale: it is replaced by the last exit the
// monitor reported, else by an exit with code 255 and why. It returns
// the state that holds now.
func (r *Runtime) monitorGone(id string, why string) State {
	path := filepath.Join(r.cdir(id), stateFile)
	var file State
	if readJSON(path, &file) != nil || !file.Running() {
		return file
	}
	r.unsavedMu.Lock()
	defer r.unsavedMu.Unlock()
	st := file
	if u, ok := r.unsaved[id]; ok && u.st.StartedAt.Equal(file.StartedAt) {
		st = u.st
	} else {
		st.Status, st.Pid, st.ExitCode = StatusExited, 0, 255
		st.Error = why
		st.FinishedAt = time.Now().UTC()
		st.Network, st.Networks = nil, nil
	}
	st.Status = StatusExited
	if writeState(path, st) == nil {
		delete(r.unsaved, id)
	} else {
		r.unsaved[id] = unsavedState{st: st, monitorGone: true}
	}
	return st
}

// forgetUnsaved drops what the runtime kept for container id (a new run
// begins, or the container is removed).
func (r *Runtime) forgetUnsaved(id string) {
	r.unsavedMu.Lock()
	delete(r.unsaved, id)
	r.unsavedMu.Unlock()
}

// monitorListens reports whether container id's monitor still takes
// connections on its control socket (it removes the socket before its
// last state save and its end).
func (r *Runtime) monitorListens(id string) bool {
	dirf, err := os.Open(r.cdir(id))
	if err != nil {
		return false
	}
	defer dirf.Close()
	c, err := net.DialTimeout("unix", fmt.Sprintf("/proc/self/fd/%d/%s", dirf.Fd(), ctlSocket), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// writeState saves st to the state file path: atomically, or, when the
// disk is too full for the temporary file, over the file's own bytes
// (padded with spaces to its old size, so that no new block is needed).
// A container's exit must reach state.json even then: the agent reads
// that file, also after a restart of its own.
func writeState(path string, st State) error {
	err := writeJSON(path, st)
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		return err
	}
	if ierr := rewriteInPlace(path, st); ierr != nil {
		return errors.Join(err, ierr)
	}
	return nil
}

// rewriteInPlace overwrites the JSON file path with v without making a
// new file. It is not atomic: only for when the atomic write cannot be.
func rewriteInPlace(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// Only what fits the blocks the file holds: a write that needs a new
	// one would fail half-way and leave the file torn.
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok && int64(len(b)) > max(sys.Blocks*512, fi.Size()) {
		return fmt.Errorf("rewrite %s in place: %d bytes do not fit its %d: %w", path, len(b), sys.Blocks*512, syscall.ENOSPC)
	}
	if n := fi.Size() - int64(len(b)); n > 0 {
		b = append(b, bytes.Repeat([]byte{' '}, int(n))...)
	}
	if _, err := f.WriteAt(b, 0); err != nil {
		return fmt.Errorf("rewrite %s in place: %w", path, err)
	}
	return f.Close()
}
