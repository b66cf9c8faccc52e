package container

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/testenv"
	"golang.org/x/sys/unix"
)

// fullDisk mounts a 64 KiB tmpfs, writes a container's state.json
// (running) into it and fills the rest; free removes the filler.
func fullDisk(t *testing.T, running State) (r *Runtime, id string, free func()) {
	t.Helper()
	testenv.NeedRoot(t)
	disk := t.TempDir()
	if err := unix.Mount("tmpfs", disk, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount a small disk: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(disk, unix.MNT_DETACH) })
	r = &Runtime{dir: disk, entries: map[string]*entry{}, unsaved: map[string]unsavedState{}}
	id = "c0ffee"
	if err := os.Mkdir(r.cdir(id), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(filepath.Join(r.cdir(id), stateFile), running); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(disk, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	for err == nil {
		_, err = f.Write(make([]byte, 4096))
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fill the disk: %v", err)
	}
	return r, id, func() { os.Remove(filler) }
}

func fileState(t *testing.T, r *Runtime, id string) State {
	t.Helper()
	var st State
	if err := readJSON(filepath.Join(r.cdir(id), stateFile), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestWriteStateOnAFullDisk: with no room for a temporary file, a
// container's exit still reaches state.json, written over its own bytes.
func TestWriteStateOnAFullDisk(t *testing.T) {
	began := time.Now().UTC()
	r, id, _ := fullDisk(t, State{Status: StatusRunning, Pid: 42, StartedAt: began, Error: strings.Repeat("x", 100)})
	path := filepath.Join(r.cdir(id), stateFile)
	exit := State{Status: StatusExited, ExitCode: 3, StartedAt: began, FinishedAt: time.Now().UTC()}
	if err := writeJSON(path, exit); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the atomic write on the full disk: %v, want ENOSPC", err)
	}
	if err := writeState(path, exit); err != nil {
		t.Fatalf("writeState on the full disk: %v", err)
	}
	if got := fileState(t, r, id); got.Status != StatusExited || got.ExitCode != 3 {
		t.Errorf("state.json after writeState: %+v, want exited 3", got)
	}
}

// TestStateKeptWhenUnsaved: when even the rewrite in place cannot save
// an exit (it needs a new block), the runtime shows the exit its monitor
// reported instead of the file's stale "running", and again once the
// monitor is gone, and saves it once there is room.
func TestStateKeptWhenUnsaved(t *testing.T) {
	began := time.Now().UTC()
	r, id, free := fullDisk(t, State{Status: StatusRunning, Pid: 42, StartedAt: began})
	exit := State{Status: StatusExited, ExitCode: 3, StartedAt: began, FinishedAt: time.Now().UTC(), Error: strings.Repeat("x", 8192)}
	if err := writeState(filepath.Join(r.cdir(id), stateFile), exit); err == nil {
		t.Fatal("an exit larger than the file's block was saved on a full disk: the test needs it not to be")
	}
	r.exitSeen(id, exit)
	if st, _ := r.state(id); st.Status != StatusExited || st.ExitCode != 3 {
		t.Errorf("after the monitor reported the exit: state %s %d, want exited 3", st.Status, st.ExitCode)
	}
	if st := r.monitorGone(id, "gone"); st.Status != StatusExited || st.ExitCode != 3 {
		t.Errorf("once the monitor is gone: state %s %d, want exited 3", st.Status, st.ExitCode)
	}
	if got := fileState(t, r, id); got.Status != StatusRunning {
		t.Fatalf("state.json on the full disk reads %s: the test needs it unsaved", got.Status)
	}
	free()
	if st, _ := r.state(id); st.Status != StatusExited || st.ExitCode != 3 {
		t.Errorf("with room again: state %s %d, want exited 3", st.Status, st.ExitCode)
	}
	if got := fileState(t, r, id); got.Status != StatusExited || got.ExitCode != 3 {
		t.Errorf("with room again, state.json reads %s %d, want exited 3 saved", got.Status, got.ExitCode)
	}
	// A new run (a later StartedAt) in the file wins over what was kept.
	r.exitSeen(id, State{Status: StatusExited, StartedAt: began})
	next := State{Status: StatusRunning, StartedAt: began.Add(time.Second)}
	if err := writeJSON(filepath.Join(r.cdir(id), stateFile), next); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.state(id); st.Status != StatusRunning {
		t.Errorf("after a new run began: state %s, want running", st.Status)
	}
}
