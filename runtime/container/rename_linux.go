package container

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// ActionRename is Docker's event action for a rename.
const ActionRename = "rename"

// Rename errors.
var (
	// ErrSameName: a rename to the name the container has.
	ErrSameName = errors.New("renaming a container with the same name as its current name")
	// ErrBadName: a name Docker does not allow.
	ErrBadName = errors.New("invalid container name")
)

// Rename gives the container a new name; the rename event carries the old
// one (oldName, with Docker's leading "/").
func (r *Runtime) Rename(ctx context.Context, ref, name string) error {
	e, err := r.lookup(ref)
	if err != nil {
		return err
	}
	name = strings.TrimPrefix(name, "/")
	if !ValidName(name) {
		return fmt.Errorf("%w (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", ErrBadName, name)
	}
	r.mu.Lock()
	old := e.spec().Name
	if old == name {
		r.mu.Unlock()
		return ErrSameName
	}
	for _, o := range r.entries {
		if o.spec().Name == name {
			r.mu.Unlock()
			return fmt.Errorf("%w: the container name \"/%s\" is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name", ErrNameInUse, name, o.spec().ID)
		}
	}
	spec := e.spec()
	spec.Name = name
	if err := writeJSON(filepath.Join(r.cdir(spec.ID), specFile), spec); err != nil {
		r.mu.Unlock()
		return fmt.Errorf("rename container %s: %w", old, err)
	}
	e.cur.Store(&spec)
	r.mu.Unlock()
	r.emit(ActionRename, spec, map[string]string{"oldName": "/" + old})
	return nil
}
