package machine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// ErrBusy marks a machine whose lock another berth command holds.
var ErrBusy = errors.New("busy")

// Lock takes the named machine's lock without waiting, so that two berth
// processes cannot create, start or remove the same machine at once. The
// loser gets an error wrapping ErrBusy. The lock lives outside the machine
// folder (locks/NAME.lock) so that it exists before and after the machine.
func (s *Store) Lock(name string) (unlock func(), err error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(s.Root, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock machine %q: %w", name, err)
	}
	path := filepath.Join(dir, name+".lock")
	l := flock.New(path, flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock machine %q: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("machine %q is %w: another berth command is working on it (lock %s); try again when it has finished", name, ErrBusy, path)
	}
	return func() { l.Unlock() }, nil
}
