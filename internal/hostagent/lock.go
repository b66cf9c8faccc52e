package hostagent

import (
	"fmt"
	"path/filepath"

	"github.com/gofrs/flock"
)

// Running reports whether a host agent holds the lock of the machine in
// dir.
func Running(dir string) bool {
	l := flock.New(filepath.Join(dir, LockFile), flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return false
	}
	if ok {
		l.Unlock()
		return false
	}
	return true
}

// ErrAlreadyRunning marks a second host agent for one machine.
var ErrAlreadyRunning = fmt.Errorf("a host agent already runs for this machine")

// lock takes the machine's host agent lock for the life of the process.
func lock(dir string) (release func(), err error) {
	l := flock.New(filepath.Join(dir, LockFile), flock.SetPermissions(0o600))
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", filepath.Join(dir, LockFile), err)
	}
	if !ok {
		return nil, ErrAlreadyRunning
	}
	return func() { l.Unlock() }, nil
}
