package container

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestAutoRemoveLeftoversAtRestart: what a crash leaves of AutoRemove
// containers, whose creates are not synced and whose folders are deleted
// in the background, is gone after the next start of the runtime; other
// containers, a folder with a spec that does not parse and one whose file
// system holds data, are kept.
func TestAutoRemoveLeftoversAtRestart(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	create := func(name string, autoRemove bool) string {
		t.Helper()
		spec := Spec{ID: NewID(), Name: name, Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, Args: []string{"true"}, AutoRemove: autoRemove}
		info, err := rt.Create(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		return info.Spec.ID
	}
	kept := create("kept", false)
	created := create("created-rm", true)

	// A create cut short: a folder whose spec is empty, one with none.
	emptySpec, noSpec := NewID(), NewID()
	for _, id := range []string{emptySpec, noSpec} {
		if err := os.MkdirAll(filepath.Join(rt.dir, id, "upper"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(rt.dir, emptySpec, specFile), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A spec that does not parse beside written data: not ours to delete.
	damaged := NewID()
	if err := os.MkdirAll(filepath.Join(rt.dir, damaged, "upper", "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rt.dir, damaged, specFile), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A background removal cut short.
	trash := filepath.Join(rt.dir, removingPrefix+NewID())
	if err := os.MkdirAll(filepath.Join(trash, "upper", "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	rt2, err := New(ctx, rt.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt2.Get(kept); err != nil {
		t.Errorf("the container without AutoRemove: %v", err)
	}
	if _, err := rt2.Get(created); !errors.Is(err, ErrNotFound) {
		t.Errorf("the created AutoRemove container after the restart: %v, want ErrNotFound", err)
	}
	// The removed container's folder goes in the background.
	var left []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		des, err := os.ReadDir(rt.dir)
		if err != nil {
			t.Fatal(err)
		}
		left = left[:0]
		for _, de := range des {
			if de.IsDir() {
				left = append(left, de.Name())
			}
		}
		if len(left) <= 2 || time.Now().After(deadline) {
			break
		}
	}
	sort.Strings(left)
	want := []string{kept, damaged}
	sort.Strings(want)
	if len(left) != len(want) || left[0] != want[0] || left[1] != want[1] {
		t.Errorf("container folders after the restart: %q, want %q (kept, damaged)", left, want)
	}
}

// TestAutoRemoveFolderGoesAtOnce: removing an AutoRemove container
// renames its folder away at once; the deletion follows in the background.
func TestAutoRemoveFolderGoesAtOnce(t *testing.T) {
	rt := newTestRuntime(t)
	ctx := context.Background()
	spec := Spec{ID: NewID(), Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, Args: []string{"true"}, AutoRemove: true}
	info, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	id := info.Spec.ID
	if err := rt.Remove(ctx, id, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(rt.cdir(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the container's folder after Remove: %v, want it gone", err)
	}
	trash := filepath.Join(rt.dir, removingPrefix+id)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(trash); errors.Is(err, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still there 10 s after the removal", trash)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAutoRemoveAtExit: an AutoRemove container is removed as soon as its
// exit is known: a wait for "removed" gets its exit code, the remove hook
// has run, its name is free at once, and its folder goes once its monitor
// has ended.
func TestAutoRemoveAtExit(t *testing.T) {
	rt := newTestRuntime(t)
	var hooked []string
	rt.OnRemove(func(s Spec) { hooked = append(hooked, s.ID) })
	ctx := context.Background()
	spec := Spec{ID: NewID(), Name: "once", Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, AutoRemove: true}
	// It lives a moment, so that the wait below is registered before it
	// exits.
	if err := spec.ApplyConfig(ImageConfig{}, sh("sleep 1; exit 3")); err != nil {
		t.Fatal(err)
	}
	info, err := rt.Create(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	id := info.Spec.ID
	if err := rt.Start(ctx, id); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := rt.Wait(wctx, id, WaitRemoved)
	if err != nil {
		t.Fatalf("wait for removed: %v", err)
	}
	if st.ExitCode != 3 {
		t.Errorf("wait for removed: exit code %d, want 3", st.ExitCode)
	}
	if len(hooked) != 1 || hooked[0] != id {
		t.Errorf("remove hook calls %v, want one for %s", hooked, id)
	}
	if _, err := rt.Get(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after the removal: %v, want ErrNotFound", err)
	}
	again := Spec{ID: NewID(), Name: "once", Image: "busybox", LowerDirs: []string{busyboxRootfs(t)}, Args: []string{"true"}}
	if _, err := rt.Create(ctx, again); err != nil {
		t.Errorf("create with the removed container's name: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err1 := os.Stat(rt.cdir(id))
		_, err2 := os.Stat(filepath.Join(rt.dir, removingPrefix+id))
		if errors.Is(err1, os.ErrNotExist) && errors.Is(err2, os.ErrNotExist) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the folder of %s is still there 10 s after the removal", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
