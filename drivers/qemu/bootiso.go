package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
)

var _ drivers.BootISO = (*Driver)(nil)

// ISORecord is what the driver records of a boot ISO.
type ISORecord struct {
	Source  string `json:",omitempty"`
	Version string `json:",omitempty"` // volume id
	SHA256  string `json:",omitempty"`
}

// BootISOPath is the machine's boot.iso.
func (d *Driver) BootISOPath() string { return d.path(BootFile) }

// ReplaceBootISO makes the stopped machine boot iso from its next start
// on: iso is linked (or copied) into the machine folder as boot.new.iso,
// the current boot.iso gets a second name, boot.old.iso (kept from an
// earlier replace that was neither committed nor restored), and
// boot.new.iso is renamed over boot.iso, so that a boot.iso exists at
// every moment. The recorded version and SHA-256 follow, so the next
// start boots the new ISO's kernel and initramfs.
func (d *Driver) ReplaceBootISO(ctx context.Context, iso string) (err error) {
	name := d.base.MachineName
	defer func() {
		if err != nil {
			os.Remove(d.path(NewBootFile))
			err = fmt.Errorf("replace the boot ISO of machine %q: %w", name, err)
		}
	}()
	if d.runningPID() != 0 {
		return fmt.Errorf("it is running: stop it first (`berth stop %s`)", name)
	}
	id, err := isocache.VolumeID(iso)
	if err != nil {
		return err
	}
	if got := isocache.ArchOf(id); got != d.guestArch() {
		return fmt.Errorf("%s is berth-os for %s, and the machine is %s", iso, got, d.guestArch())
	}
	if err := linkOrCopy(iso, d.path(NewBootFile)); err != nil {
		return err
	}
	sum, err := isocache.SHA256File(d.path(NewBootFile))
	if err != nil {
		return err
	}
	prev := d.PreviousISO
	if prev == nil {
		if err := linkOrCopy(d.path(BootFile), d.path(OldBootFile)); err != nil {
			return fmt.Errorf("keep the old ISO: %w", err)
		}
		prev = &ISORecord{Source: d.ISOSource, Version: d.ISOVersion, SHA256: d.ISOSHA256}
	}
	if err := os.Rename(d.path(NewBootFile), d.path(BootFile)); err != nil {
		if d.PreviousISO == nil {
			os.Remove(d.path(OldBootFile))
		}
		return err
	}
	d.PreviousISO = prev
	d.ISOSource, d.ISOVersion, d.ISOSHA256 = iso, id, sum
	return nil
}

// RestoreBootISO renames boot.old.iso back over boot.iso and takes its
// recorded version and SHA-256 back.
func (d *Driver) RestoreBootISO(ctx context.Context) error {
	if d.PreviousISO == nil {
		return nil
	}
	name := d.base.MachineName
	if d.runningPID() != 0 {
		return fmt.Errorf("restore the boot ISO of machine %q: it is running: stop it first (`berth stop %s`)", name, name)
	}
	if err := os.Rename(d.path(OldBootFile), d.path(BootFile)); err != nil {
		return fmt.Errorf("restore the boot ISO of machine %q: %w", name, err)
	}
	p := d.PreviousISO
	d.ISOSource, d.ISOVersion, d.ISOSHA256 = p.Source, p.Version, p.SHA256
	d.PreviousISO = nil
	return nil
}

// CommitBootISO deletes boot.old.iso.
func (d *Driver) CommitBootISO(ctx context.Context) error {
	if err := os.Remove(d.path(OldBootFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete the old boot ISO of machine %q: %w", d.base.MachineName, err)
	}
	d.PreviousISO = nil
	return nil
}
