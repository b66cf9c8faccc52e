package drivers

import "context"

// BootISO is the role of drivers whose machines boot a guest OS ISO kept
// in the machine folder (QEMU, VirtualBox), which `berth upgrade` replaces
// with a newer berth-os while the data disk stays as it is. The generic
// driver does not have it: its hosts run their own OS.
//
// An ISO swap is a transaction in three steps on a stopped machine:
// ReplaceBootISO, then (once the machine booted the new ISO and its agent
// answers) CommitBootISO, or (when it did not) RestoreBootISO.
type BootISO interface {
	// BootISOPath is the ISO the machine boots (at its next start, when
	// it is stopped), in the machine folder. Reading it MUST NOT need the
	// machine to run.
	BootISOPath() string

	// ReplaceBootISO makes the stopped machine boot the ISO at iso from
	// its next start on. It MUST refuse a running machine, MUST NOT touch
	// the data disk, the seed or the machine's settings other than the
	// ISO, and MUST keep the ISO the machine booted so far in the machine
	// folder until CommitBootISO or RestoreBootISO. Called again before
	// either, it keeps the first kept ISO (the last one that booted). On
	// error it leaves the machine booting the ISO it booted before.
	ReplaceBootISO(ctx context.Context, iso string) error

	// RestoreBootISO makes the stopped machine boot the ISO that
	// ReplaceBootISO kept again. Without a kept ISO it is a no-op.
	RestoreBootISO(ctx context.Context) error

	// CommitBootISO deletes the ISO that ReplaceBootISO kept. Without a
	// kept ISO it is a no-op.
	CommitBootISO(ctx context.Context) error
}
