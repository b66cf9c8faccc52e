package machine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/berthvm/berth/drivers"
)

// Remove deletes the named machine: its driver's resources, then its
// folder. A machine whose config cannot be read (broken config.json, a
// driver this berth lacks) has only its folder deleted. When the driver
// fails to remove the VM, or the machine's driver is not in this berth,
// the folder stays so that a later rm can retry, unless force is set.
func (s *Store) Remove(ctx context.Context, name string, force bool) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	unlock, err := s.Lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	dir := s.Dir(name)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %q (see `berth ls`)", ErrNotFound, name)
	}
	m, err := s.Load(name)
	switch {
	case err == nil:
		if err := m.Driver.Remove(ctx); err != nil && !force {
			return fmt.Errorf("remove machine %q: %w (rm -f deletes its folder anyway)", name, err)
		}
	case errors.Is(err, drivers.ErrUnknownDriver) && !force:
		// Its VM may live outside the folder (VirtualBox's registry).
		return fmt.Errorf("remove machine %q: %w; use the berth that made it, or rm -f to delete its folder and leave its VM", name, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove machine %q: %w", name, err)
	}
	return nil
}
