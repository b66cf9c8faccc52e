package virtualbox

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/berthvm/berth/drivers"
)

var _ drivers.BootISO = (*Driver)(nil)

// isoName is the file name of the attached boot ISO.
func (d *Driver) isoName() string {
	if d.ISOFile == "" {
		return isoFile
	}
	return d.ISOFile
}

// otherISOName is the boot ISO's other file name.
func otherISOName(name string) string {
	if name == altISOFile {
		return isoFile
	}
	return altISOFile
}

// BootISOPath is the attached boot ISO in the machine folder.
func (d *Driver) BootISOPath() string { return d.path(d.isoName()) }

// checkStopped refuses a VM that is not powered off: VirtualBox changes
// no medium of a running VM's disk controller for good, and a saved
// state would resume the old OS.
func (d *Driver) checkStopped(ctx context.Context, verb string) error {
	st, err := d.State(ctx)
	if err != nil {
		return fmt.Errorf("%s the boot ISO of VM %q: %w", verb, d.VMName, err)
	}
	if st != drivers.StateStopped {
		return fmt.Errorf("%s the boot ISO of VM %q: it is %s, not powered off: stop it first (`berth stop %s`)", verb, d.VMName, st, d.base.MachineName)
	}
	return nil
}

// ReplaceBootISO copies iso into the machine folder under the boot ISO's
// other name (boot.iso or boot.alt.iso) and attaches it to the DVD drive
// in place of the current one with storageattach, as create attached the
// first. The replaced ISO stays in the folder, detached, until
// CommitBootISO or RestoreBootISO. Called again before either, it
// replaces the ISO it attached and keeps the first kept one.
func (d *Driver) ReplaceBootISO(ctx context.Context, iso string) error {
	if err := d.checkStopped(ctx, "replace"); err != nil {
		return err
	}
	target := otherISOName(d.isoName())
	if d.PreviousISOFile != "" {
		// An earlier replace was neither committed nor restored: its
		// ISO goes, the kept one stays.
		target = d.isoName()
		if err := d.attachISO(ctx, d.PreviousISOFile); err != nil {
			return fmt.Errorf("replace the boot ISO of VM %q: %w", d.VMName, err)
		}
		d.ISOFile, d.PreviousISOFile = d.PreviousISOFile, ""
		if _, err := d.vbox().Run(ctx, closeDVDArgs(d.path(target))...); err != nil && !isUnknownMedium(err) {
			return fmt.Errorf("replace the boot ISO of VM %q: %w", d.VMName, err)
		}
	}
	if err := copyFile(iso, d.path(target)); err != nil {
		return fmt.Errorf("replace the boot ISO of VM %q: copy the ISO into the machine: %w", d.VMName, err)
	}
	if err := d.attachISO(ctx, target); err != nil {
		os.Remove(d.path(target))
		return fmt.Errorf("replace the boot ISO of VM %q: %w", d.VMName, err)
	}
	d.PreviousISOFile, d.ISOFile = d.isoName(), target
	return nil
}

// attachISO puts the ISO called name in the machine folder into the DVD
// drive of the controller port create gave the boot ISO.
func (d *Driver) attachISO(ctx context.Context, name string) error {
	_, err := d.vbox().Run(ctx, attachArgs(d.VMName, d.guestArch(), portISO, "dvddrive", d.path(name))...)
	return err
}

// RestoreBootISO attaches the kept ISO again and deletes the one
// ReplaceBootISO attached.
func (d *Driver) RestoreBootISO(ctx context.Context) error {
	if d.PreviousISOFile == "" {
		return nil
	}
	if err := d.checkStopped(ctx, "restore"); err != nil {
		return err
	}
	if err := d.attachISO(ctx, d.PreviousISOFile); err != nil {
		return fmt.Errorf("restore the boot ISO of VM %q: %w", d.VMName, err)
	}
	rejected := d.isoName()
	d.ISOFile, d.PreviousISOFile = d.PreviousISOFile, ""
	if _, err := d.vbox().Run(ctx, closeDVDArgs(d.path(rejected))...); err != nil && !isUnknownMedium(err) {
		return fmt.Errorf("restore the boot ISO of VM %q: forget the rejected ISO: %w", d.VMName, err)
	}
	if err := os.Remove(d.path(rejected)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore the boot ISO of VM %q: %w", d.VMName, err)
	}
	return nil
}

// CommitBootISO forgets the kept ISO in VirtualBox and deletes it.
func (d *Driver) CommitBootISO(ctx context.Context) error {
	if d.PreviousISOFile == "" {
		return nil
	}
	kept := d.path(d.PreviousISOFile)
	if _, err := d.vbox().Run(ctx, closeDVDArgs(kept)...); err != nil && !isUnknownMedium(err) {
		return fmt.Errorf("delete the old boot ISO of VM %q: %w", d.VMName, err)
	}
	if err := os.Remove(kept); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete the old boot ISO of VM %q: %w", d.VMName, err)
	}
	d.PreviousISOFile = ""
	return nil
}
