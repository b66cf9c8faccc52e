package machine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
)

// GuestOS is the guest OS a machine boots, as its boot ISO tells: the
// ISO's volume id, which carries berth-os's version and architecture.
type GuestOS struct {
	// VolumeID is the boot ISO's volume id: berth-os-v0.1.0,
	// berth-os-v0.1.0-arm64.
	VolumeID string
	// Version is the berth-os version (v0.1.0); "" for an ISO that is
	// not berth-os.
	Version string
	// Arch is the guest architecture, amd64 or arm64.
	Arch string
	// ISO is the path of the boot ISO in the machine folder.
	ISO string
}

// String is the version, else the volume id.
func (g GuestOS) String() string {
	if g.Version != "" {
		return g.Version
	}
	return g.VolumeID
}

// GuestOSOf reads the guest OS of the ISO at path (one sector of it).
func GuestOSOf(path string) (GuestOS, error) {
	id, err := isocache.VolumeID(path)
	if err != nil {
		return GuestOS{}, err
	}
	return GuestOS{VolumeID: id, Version: isocache.VersionOf(id), Arch: isocache.ArchOf(id), ISO: path}, nil
}

// GuestOS reads the guest OS m boots from its boot ISO, without asking
// the machine (it need not run). ok is false for machines whose driver
// boots no ISO (generic hosts run their own OS).
func (m *Machine) GuestOS() (g GuestOS, ok bool, err error) {
	bi, ok := m.Driver.(drivers.BootISO)
	if !ok {
		return GuestOS{}, false, nil
	}
	g, err = GuestOSOf(bi.BootISOPath())
	if err != nil {
		return GuestOS{}, true, fmt.Errorf("guest OS of machine %q: %w", m.Name, err)
	}
	return g, true, nil
}

// Outdated reports whether g is an older berth-os than version (the one
// this berth brings). An ISO that is not berth-os, or an unknown version,
// is not outdated.
func (g GuestOS) Outdated(version string) bool {
	return g.Version != "" && version != "" && isocache.Older(g.Version, version)
}

// ErrGuestOSNotReplaced marks a guest OS swap that failed and was undone:
// the machine boots its old ISO again.
var ErrGuestOSNotReplaced = errors.New("the guest OS was not replaced")

// GuestOSRestartTimeout bounds the restart of a machine's old guest OS
// after a swap that failed (a boot under emulation is slow).
var GuestOSRestartTimeout = 5 * time.Minute

// SwapGuestOS moves m to the guest OS ISO at iso and keeps its data disk
// (images, containers, volumes, host keys): it stops m when it runs (a
// step "stopping the machine"), has its driver boot iso while keeping the
// old ISO, starts m and waits for SSH, then runs steps.Provision and
// steps.AgentHealthy, and only then deletes the old ISO.
//
// When any of that fails, the old ISO is put back and m is started again
// when it ran before (not when ctx was cancelled: an interrupted swap
// leaves m stopped); the error wraps ErrGuestOSNotReplaced and says what
// state m is in and what to do. The caller holds m's lock.
func (s *Store) SwapGuestOS(ctx context.Context, m *Machine, iso string, steps Steps) error {
	bi, ok := m.Driver.(drivers.BootISO)
	if !ok {
		return fmt.Errorf("replace the guest OS of machine %q: the %s driver's machines run their own OS (only the agent can be upgraded): %w", m.Name, m.DriverName, drivers.ErrNotSupported)
	}
	lc, err := m.Lifecycle("upgrade")
	if err != nil {
		return err
	}
	old, err := GuestOSOf(bi.BootISOPath())
	if err != nil {
		return fmt.Errorf("replace the guest OS of machine %q: %w", m.Name, err)
	}
	next, err := GuestOSOf(iso)
	if err != nil {
		return fmt.Errorf("replace the guest OS of machine %q: %w", m.Name, err)
	}
	if next.Arch != old.Arch {
		return fmt.Errorf("replace the guest OS of machine %q: %s is berth-os for %s and the machine is %s", m.Name, iso, next.Arch, old.Arch)
	}
	st, err := m.Driver.State(ctx)
	if err != nil {
		return fmt.Errorf("replace the guest OS of machine %q: %w", m.Name, err)
	}
	wasRunning := st != drivers.StateStopped
	if wasRunning {
		if err := steps.Step(ctx, "stopping the machine", lc.Stop); err != nil {
			return fmt.Errorf("replace the guest OS of machine %q: %w (nothing was changed)", m.Name, err)
		}
	}
	replaced := false
	err = steps.Step(ctx, "replacing its ISO with "+next.String(), func(ctx context.Context) error {
		if err := bi.ReplaceBootISO(ctx, iso); err != nil {
			return err // the driver left the old ISO in place
		}
		replaced = true
		return s.Save(m)
	})
	if err != nil {
		err = fmt.Errorf("replace the guest OS of machine %q: %w", m.Name, err)
		if replaced {
			if restore := bi.RestoreBootISO(context.WithoutCancel(ctx)); restore != nil {
				return errors.Join(err, s.keptNote(m, old, restore))
			}
			if serr := s.Save(m); serr != nil {
				return errors.Join(err, s.keptNote(m, old, serr))
			}
		}
		return s.restartOld(ctx, m, old, wasRunning, steps, err)
	}
	err = func() error {
		if err := s.Start(ctx, m, steps); err != nil {
			return err
		}
		if steps.Provision != nil {
			if err := steps.Step(ctx, "provisioning the agent", func(ctx context.Context) error { return steps.Provision(ctx, m) }); err != nil {
				return err
			}
		}
		if steps.AgentHealthy != nil {
			return steps.Step(ctx, "waiting for the agent", func(ctx context.Context) error { return steps.AgentHealthy(ctx, m) })
		}
		return nil
	}()
	if err != nil {
		return s.undoSwap(ctx, m, lc, bi, old, next, wasRunning, steps, err)
	}
	return steps.Step(ctx, "deleting the old ISO", func(ctx context.Context) error {
		if err := bi.CommitBootISO(ctx); err != nil {
			return fmt.Errorf("machine %q runs %s; deleting its old ISO failed (it is only a spare file in %s): %w", m.Name, next, m.Dir, err)
		}
		return s.Save(m)
	})
}

// undoSwap puts the old ISO back after the new one did not come up.
func (s *Store) undoSwap(ctx context.Context, m *Machine, lc drivers.Lifecycle, bi drivers.BootISO, old, next GuestOS, wasRunning bool, steps Steps, cause error) error {
	cause = fmt.Errorf("machine %q did not come up on %s: %w", m.Name, next, cause)
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RollbackTimeout)
	defer cancel()
	if err := lc.Kill(uctx); err != nil {
		return errors.Join(cause, s.keptNote(m, old, err))
	}
	if err := bi.RestoreBootISO(uctx); err != nil {
		return errors.Join(cause, s.keptNote(m, old, err))
	}
	if err := s.Save(m); err != nil {
		return errors.Join(cause, s.keptNote(m, old, err))
	}
	return s.restartOld(ctx, m, old, wasRunning, steps, cause)
}

// restartOld starts m on its old guest OS again when it ran before the
// swap and ctx was not cancelled, and returns cause with what m's state
// is now.
func (s *Store) restartOld(ctx context.Context, m *Machine, old GuestOS, wasRunning bool, steps Steps, cause error) error {
	back := fmt.Sprintf("the machine is back on %s with its data disk unchanged", old)
	if !wasRunning {
		return fmt.Errorf("%w; %s, stopped as it was: %w", cause, back, ErrGuestOSNotReplaced)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w; %s, stopped (`berth start %s` starts it): %w", cause, back, m.Name, ErrGuestOSNotReplaced)
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), GuestOSRestartTimeout)
	defer cancel()
	quiet := Steps{WaitSSH: steps.WaitSSH, Progress: steps.Progress, Done: steps.Done}
	if err := s.Start(rctx, m, quiet); err != nil {
		return fmt.Errorf("%w; %s, but starting it again failed (`berth start %s` tries again): %v: %w", cause, back, m.Name, err, ErrGuestOSNotReplaced)
	}
	return fmt.Errorf("%w; %s and running again: %w", cause, back, ErrGuestOSNotReplaced)
}

// keptNote says where the old ISO is when putting it back failed.
func (s *Store) keptNote(m *Machine, old GuestOS, err error) error {
	return fmt.Errorf("putting %s back failed too: %w; the old ISO is kept in %s (`berth upgrade %s` tries again; `berth stop %s` and `berth start %s` boot what is in place)",
		old, err, filepath.Dir(old.ISO), m.Name, m.Name, m.Name)
}
