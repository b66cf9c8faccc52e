package qemu

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/berthvm/berth/internal/hostport"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/seed"
)

// PreCreateCheck verifies that QEMU is installed, the settings are valid
// and a named ISO file exists. It changes nothing.
func (d *Driver) PreCreateCheck(ctx context.Context) error {
	var errs []error
	if runtime.GOOS == "windows" {
		errs = append(errs, errors.New("the qemu driver cannot yet keep QEMU running in the background on Windows (QEMU for Windows has no -daemonize); use --driver virtualbox"))
	}
	if err := d.validate(); err != nil {
		errs = append(errs, err)
	}
	for _, r := range []runner{d.qemuSystem(), d.qemuImg()} {
		if p, ok := r.(program); ok {
			if _, err := p.path(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if src := d.ISOSource; src != "" && !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		if _, err := os.Stat(src); errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("--qemu-iso %s does not exist (`make iso` builds build/berth-os.iso; or pass an http(s) URL)", src))
		} else if err != nil {
			errs = append(errs, fmt.Errorf("--qemu-iso %s: %w", src, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", drivers.ErrPreCreate, err)
	}
	return nil
}

// Create makes the machine's files: the boot ISO (linked or copied from the
// cache), the NoCloud seed, the qcow2 data disk; it resolves the
// accelerator and picks the SSH port. On error it removes what it made.
func (d *Driver) Create(ctx context.Context) (err error) {
	name := d.base.MachineName
	defer func() {
		if err != nil {
			d.removeFiles()
			err = fmt.Errorf("create qemu machine %q: %w", name, err)
		}
	}()
	if err := d.validate(); err != nil {
		return err
	}
	if d.base.SSHPublicKey == "" {
		return errors.New("no SSH public key for the machine")
	}
	cache := &isocache.Cache{Dir: d.base.CacheDir, Progress: d.progress, Arch: d.guestArch()}
	iso, err := cache.Resolve(ctx, d.ISOSource)
	if err != nil {
		return err
	}
	if d.ISOVersion, err = isocache.VolumeID(iso); err != nil {
		return fmt.Errorf("boot iso: %w", err)
	}
	if got := isocache.ArchOf(d.ISOVersion); got != d.guestArch() {
		return fmt.Errorf("boot iso %s is berth-os for %s, and the machine is %s: name the %s ISO (or create with --arch %s)", iso, got, d.guestArch(), d.guestArch(), got)
	}
	if d.guestArch() == ArchARM64 {
		if err := d.makeVars(); err != nil {
			return err
		}
	}
	if err := linkOrCopy(iso, d.path(BootFile)); err != nil {
		return fmt.Errorf("boot iso: %w", err)
	}
	if d.ISOSHA256, err = isocache.SHA256File(d.path(BootFile)); err != nil {
		return fmt.Errorf("boot iso: %w", err)
	}
	if d.InstanceID == "" {
		d.InstanceID = newInstanceID()
	}
	err = seed.Write(d.path(SeedFile), seed.Config{
		InstanceID:        d.InstanceID,
		Hostname:          hostname(name),
		SSHAuthorizedKeys: []string{d.base.SSHPublicKey},
		Mounts:            append(seedMounts(d.base.Shares), seed.Hide(d.base.Hidden)...),
	})
	if err != nil {
		return err
	}
	if _, err := d.qemuImg().Run(ctx, "create", "-q", "-f", "qcow2", d.path(DiskFile), strconv.Itoa(d.DiskSizeMB)+"M"); err != nil {
		return fmt.Errorf("make data disk: %w", err)
	}
	if d.Accel == "" {
		d.Accel = resolveAccel(ctx, d.qemuSystem(), d.AccelRequested, d.guestArch())
	}
	if d.SSHPort, err = hostport.Pick(); err != nil {
		return err
	}
	return nil
}

// Remove kills the machine's QEMU when it runs and deletes the driver's
// files. A machine that is gone or half made is fine.
func (d *Driver) Remove(ctx context.Context) error {
	if err := d.Kill(ctx); err != nil {
		return fmt.Errorf("remove machine %q: %w", d.base.MachineName, err)
	}
	if err := d.removeFiles(); err != nil {
		return fmt.Errorf("remove machine %q: %w", d.base.MachineName, err)
	}
	return nil
}

func (d *Driver) removeFiles() error {
	var errs []error
	for _, f := range Files {
		if err := os.Remove(d.path(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// SSHEndpoint returns 127.0.0.1 and the host port forwarded to the guest's
// SSH server: the one QEMU reports while it runs, else the last one used.
func (d *Driver) SSHEndpoint(ctx context.Context) (drivers.Endpoint, error) {
	ep := drivers.Endpoint{Host: "127.0.0.1", Port: d.SSHPort, User: "root"}
	if d.runningPID() == 0 {
		return ep, nil
	}
	fwds, err := d.forwards(ctx)
	if err != nil {
		return ep, fmt.Errorf("ssh endpoint of machine %q: %w", d.base.MachineName, err)
	}
	for _, f := range fwds {
		if f.Proto == "tcp" && f.GuestPort == 22 {
			ep.Port = f.HostPort
			d.SSHPort = f.HostPort
			break
		}
	}
	return ep, nil
}

// seedMounts tells berth-os to mount each share's 9p device at its guest
// path.
func seedMounts(shares []drivers.Share) []seed.Mount {
	var out []seed.Mount
	for i, s := range shares {
		out = append(out, seed.Mount{Source: drivers.ShareTag(i), Target: s.GuestPath, Type: "9p", Options: seed.NinePOptions})
	}
	return out
}

// hostname makes a valid host name from a machine name: labels lose the
// dashes at their ends; nothing left becomes "berth".
func hostname(machine string) string {
	var labels []string
	for _, l := range strings.Split(machine, ".") {
		if l = strings.Trim(l, "-"); l != "" {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return "berth"
	}
	return strings.Join(labels, ".")
}

func newInstanceID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "berth-" + hex.EncodeToString(b)
}

// linkOrCopy puts src at dst: a hard link when both lie on one file
// system (the ISO is read only to QEMU and the cache replaces files by
// rename, never in place), else a copy.
func linkOrCopy(src, dst string) error {
	// link(2) does not follow a symlink: a symlinked ISO (build/berth-os.iso
	// -> berth-os-amd64.iso) would become a dangling link.
	if real, err := filepath.EvalSymlinks(src); err == nil {
		src = real
	}
	os.Remove(dst)
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}
