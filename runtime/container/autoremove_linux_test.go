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
			left = append(left, de.Name())
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
