package qemu

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/isocache"
)

// portAttempts is how often Start picks another SSH port when the chosen
// one is taken between the check and QEMU's bind.
const portAttempts = 5

// spec is the machine's command-line spec with SSH on port.
func (d *Driver) spec(accel string, port int) Spec {
	return Spec{
		Name:      d.base.MachineName,
		Arch:      d.guestArch(),
		Accel:     accel,
		CPUs:      d.CPUs,
		MemoryMB:  d.MemoryMB,
		ISO:       d.path(BootFile),
		Seed:      d.path(SeedFile),
		Disk:      d.path(DiskFile),
		SSHPort:   port,
		PIDFile:   d.path(PIDFile),
		Console:   d.path(ConsoleFile),
		Daemonize: daemonize,
		Shares:    d.exports(),
	}
}

// exports are the machine's shares whose host folder exists: QEMU refuses
// to start with a missing one, and a machine whose shared folder was
// removed should still boot (berth-os logs the mount it could not make).
func (d *Driver) exports() []Share {
	var out []Share
	for i, s := range d.base.Shares {
		if st, err := os.Stat(s.HostPath); err == nil && st.IsDir() {
			out = append(out, Share{Tag: drivers.ShareTag(i), Dir: s.HostPath})
		}
	}
	return out
}

// Start boots the machine in a QEMU process that outlives berth and
// returns once QEMU runs it. The SSH port of the last run is kept while it
// is free. BERTH_QEMU_ACCEL, when set, overrides the accelerator chosen at
// create time.
func (d *Driver) Start(ctx context.Context) error {
	name := d.base.MachineName
	st, err := d.State(ctx)
	switch {
	case err != nil:
		return fmt.Errorf("start machine %q: %w", name, err)
	case st == drivers.StateRunning || st == drivers.StateStarting:
		return nil
	case st == drivers.StatePaused:
		return d.resume(ctx)
	case st == drivers.StateStopping:
		if err := d.waitExit(ctx, d.readPID(), 30*time.Second); err != nil {
			return fmt.Errorf("start machine %q: it is still shutting down: %w", name, err)
		}
	}
	d.clearRunFiles()
	if err := d.checkFiles(); err != nil {
		return fmt.Errorf("start machine %q: %w", name, err)
	}
	var firmware string
	if d.guestArch() == ArchARM64 {
		fw, err := findFirmware(d.Firmware)
		if err != nil {
			return fmt.Errorf("start machine %q: %w", name, err)
		}
		if _, err := os.Stat(d.path(VarsFile)); errors.Is(err, os.ErrNotExist) {
			if err := d.makeVars(); err != nil {
				return fmt.Errorf("start machine %q: %w", name, err)
			}
		}
		firmware = fw.Code
	}
	accel := d.Accel
	if env := os.Getenv("BERTH_QEMU_ACCEL"); env != "" {
		accel = resolveAccel(ctx, d.qemuSystem(), env, d.guestArch())
	}
	if accel == "" || accel == "auto" {
		accel = resolveAccel(ctx, d.qemuSystem(), "auto", d.guestArch())
	}
	qmpAddr, err := socketAddr(d.path(QMPFile))
	if err != nil {
		return fmt.Errorf("start machine %q: %w", name, err)
	}
	boot := d.bootFiles()
	bios := QBoot
	preferred := d.SSHPort
	for attempt := 1; ; attempt++ {
		port, err := sshPort(preferred)
		if err != nil {
			return fmt.Errorf("start machine %q: %w", name, err)
		}
		spec := d.spec(accel, port)
		spec.QMP = qmpAddr
		switch {
		case firmware != "":
			spec.Firmware, spec.Vars = firmware, d.path(VarsFile)
		case boot.Kernel != "":
			spec.Kernel, spec.Initrd, spec.Append = boot.Kernel, boot.Initrd, boot.Cmdline+" "+guestCmdline(accel)
			spec.BIOS = bios
		}
		err = d.launch(ctx, Args(spec))
		if err == nil {
			d.SSHPort = port
			return nil
		}
		if spec.BIOS != "" && isBIOSMissing(err) {
			slog.Debug("qemu: booting the kernel through SeaBIOS", "machine", name, "why", err)
			bios = "" // a QEMU built without qboot
			if kerr := d.killStray(); kerr != nil {
				return fmt.Errorf("start machine %q: %w", name, errors.Join(err, kerr))
			}
			continue
		}
		if isPortTaken(err) && attempt < portAttempts {
			preferred = 0 // someone took it after our check: pick another
			continue
		}
		err = d.explain(err)
		if kerr := d.killStray(); kerr != nil {
			err = errors.Join(err, kerr)
		}
		return fmt.Errorf("start machine %q: %w", name, err)
	}
}

// GuestModules tells berth-os (on the kernel command line of a direct
// kernel boot) which kernel modules the hardware QEMU gives it needs
// before sshd starts: virtio PCI, disks (the data disk, and berth-os's ISO
// and the seed as read-only virtio disks), NIC and RNG, their file
// systems, and the ACPI power button. berth-os loads the others it carries
// once sshd runs.
// no_timer_check: a kernel under emulation on a busy host can find its
// timer too slow at boot and panic ("IO-APIC + timer doesn't work").
// cryptomgr.notests: no self-tests of the kernel's crypto algorithms as
// they register, which took about half the kernel's own boot under TCG
// (berth-os's ISO passes it too; here for ISOs made before).
const GuestModules = "no_timer_check cryptomgr.notests berth.modules=virtio_pci,virtio_blk,virtio_net,virtio_rng,isofs,ext4,button,evdev"

// TCGClock has a guest under TCG keep time with its TSC. Linux does not
// take the TSC that TCG emulates as a clock source by itself and falls
// back to the HPET, whose every read QEMU emulates: a clock_gettime costs
// 2 us in a TCG machine (a system call), against 0.23 us with the TSC,
// which the vDSO reads in user space. A Go program asks the time
// thousands of times a second while it works. TCG's TSC is the host's
// (monotonic across the vCPUs): a guest on it drifted by no more than the
// 1 ms a measurement over 90 s could see.
const TCGClock = "tsc=reliable"

// PCIIRQRouting has the guest route PCI interrupts with the MP table the
// firmware (qboot, or SeaBIOS) gives every "pc" machine rather than
// through ACPI. Through ACPI,
// enabling each virtio device's interrupt link runs the DSDT's AML in the
// kernel's interpreter, one device after another: 650-790 ms of the 8
// boot modules' 0.8-1.4 s under TCG, against about 100 ms with the table
// (initcall_debug), and berth-os was ready 1.1-1.7 s sooner. The ACPI
// power button and everything else of ACPI stay as they are. Only the
// direct kernel boot, whose machine berth chooses, gets it.
const PCIIRQRouting = "acpi=noirq"

// guestCmdline is what berth adds to the ISO's kernel command line for a
// direct kernel boot under accel. Under a hypervisor the guest picks its
// clock itself (kvm-clock, Hyper-V's).
func guestCmdline(accel string) string {
	if accel == "tcg" {
		return GuestModules + " " + PCIIRQRouting + " " + TCGClock
	}
	return GuestModules + " " + PCIIRQRouting
}

// bootFiles returns the kernel and initramfs of the machine's ISO from
// the cache (taking them out of boot.iso when they are missing, damaged
// or another ISO's), or nothing when the machine boots the ISO: when it
// was made so (Boot is BootISO) or when its ISO holds no kernel where
// berth-os keeps it (an ISO of another kind boots the usual way). An
// arm64 guest always boots through its UEFI firmware.
func (d *Driver) bootFiles() isocache.BootFiles {
	if d.Boot == BootISO || d.guestArch() == ArchARM64 {
		return isocache.BootFiles{}
	}
	iso := d.path(BootFile)
	if d.ISOSHA256 == "" { // a machine made before berth recorded it
		sum, err := isocache.SHA256File(iso)
		if err != nil {
			return isocache.BootFiles{}
		}
		d.ISOSHA256 = sum
	}
	cache := &isocache.Cache{Dir: d.base.CacheDir}
	bf, err := cache.Boot(iso, d.ISOSHA256)
	if err != nil {
		slog.Debug("qemu: booting the ISO through the firmware", "machine", d.base.MachineName, "why", err)
		return isocache.BootFiles{}
	}
	return bf
}

// launch starts QEMU with args and returns once it runs the VM.
func (d *Driver) launch(ctx context.Context, args []string) error {
	if _, err := d.qemuSystem().Run(ctx, args...); err != nil {
		return err
	}
	if d.runningPID() == 0 {
		return fmt.Errorf("qemu exited at once (see %s)", d.path(ConsoleFile))
	}
	return nil
}

// killStray kills a QEMU that a failed or interrupted launch left behind.
// The pidfile is removed only once that process is gone: while it may
// still run, the pidfile is what lets `berth kill` and the next start
// find it.
func (d *Driver) killStray() error {
	if pid := d.runningPID(); pid != 0 {
		if err := killPID(pid); err != nil {
			return fmt.Errorf("kill the qemu process %d it left (%s kept; `berth kill %s` tries again): %w", pid, d.path(PIDFile), d.base.MachineName, err)
		}
		if err := d.waitExit(context.Background(), pid, strayWait); err != nil {
			return fmt.Errorf("the qemu process %d it left did not end (%s kept; `berth kill %s` tries again): %w", pid, d.path(PIDFile), d.base.MachineName, err)
		}
	}
	d.clearRunFiles()
	return nil
}

// killPID and strayWait are killStray's kill and how long it waits for
// the process to end (variables for the tests).
var (
	killPID   = killProcess
	strayWait = 5 * time.Second
)

// QBoot is the firmware of a direct kernel boot: qboot, the minimal
// firmware QEMU ships for that, which hands over to the kernel at once.
// SeaBIOS first does a PC's power-on self test; under TCG berth-os was
// ready 0.3-0.4 s sooner with qboot. It builds the same ACPI and MP
// tables from QEMU's, so the ACPI power button and the interrupt routing
// of PCIIRQRouting work alike. A QEMU without it boots with SeaBIOS.
const QBoot = "qboot.rom"

// isBIOSMissing reports whether QEMU failed because it has no such
// firmware file.
func isBIOSMissing(err error) bool {
	var re *RunError
	return errors.As(err, &re) && strings.Contains(re.Stderr, "could not load PC BIOS")
}

// isPortTaken reports whether QEMU failed because a host forward's port
// is taken.
func isPortTaken(err error) bool {
	var re *RunError
	return errors.As(err, &re) && strings.Contains(re.Stderr, "host forwarding rule")
}

// explain turns QEMU's complaints about the machine's files into errors
// that say what is wrong and what to do.
func (d *Driver) explain(err error) error {
	var re *RunError
	if !errors.As(err, &re) {
		return err
	}
	name := d.base.MachineName
	switch {
	case strings.Contains(re.Stderr, DiskFile):
		return fmt.Errorf("the data disk %s is damaged or unreadable: %w (the machine folder was left as it is; `berth rm %s` removes the machine)", d.path(DiskFile), err, name)
	case strings.Contains(re.Stderr, "failed to initialize"), strings.Contains(re.Stderr, "accelerator"):
		return fmt.Errorf("%w (run with BERTH_QEMU_ACCEL=tcg to use software emulation)", err)
	case strings.Contains(re.Stderr, "-virtfs"):
		return fmt.Errorf("%w (QEMU could not share a folder: it needs virtio-9p (virtfs) support, which some QEMU builds lack; `berth inspect %s` lists the shares, and a machine made with --no-share needs none)", err, name)
	}
	return err
}

// checkFiles says clearly which file the machine needs is missing.
func (d *Driver) checkFiles() error {
	for _, f := range []struct{ name, what, fix string }{
		{BootFile, "boot ISO", "the berth-os ISO it boots was removed; `berth rm` and create the machine again"},
		{SeedFile, "seed ISO", "`berth rm` and create the machine again"},
		{DiskFile, "data disk", "`berth rm` and create the machine again"},
	} {
		if _, err := os.Stat(d.path(f.name)); err != nil {
			return fmt.Errorf("the %s %s is missing (%s): %w", f.what, d.path(f.name), f.fix, err)
		}
	}
	return nil
}

// clearRunFiles removes the pidfile and socket of a QEMU that is gone.
func (d *Driver) clearRunFiles() {
	os.Remove(d.path(PIDFile))
	os.Remove(d.path(QMPFile))
}

// resume continues a paused VM.
func (d *Driver) resume(ctx context.Context) error {
	q, err := dialQMP(ctx, d.path(QMPFile))
	if err != nil {
		return fmt.Errorf("resume machine %q: %w", d.base.MachineName, err)
	}
	defer q.Close()
	if err := q.execute("cont", nil, nil); err != nil {
		return fmt.Errorf("resume machine %q: %w", d.base.MachineName, err)
	}
	return nil
}

// powerButtonEvery is how often Stop presses the power button again: a
// guest that is still booting misses presses made before its init
// listens for them.
const powerButtonEvery = 3 * time.Second

// Stop presses the VM's ACPI power button (again every few seconds, for a
// guest still booting), waits for QEMU to exit, and kills it when the
// guest does not power off within the stop timeout or ctx ends.
func (d *Driver) Stop(ctx context.Context) error {
	pid := d.runningPID()
	if pid == 0 {
		d.clearRunFiles()
		return nil
	}
	timeout := DefaultStopTimeout
	if d.stopTimeout > 0 {
		timeout = d.stopTimeout
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for wctx.Err() == nil {
		if err := d.powerButton(wctx); err != nil {
			break // QEMU does not answer: pull the plug
		}
		if d.waitExit(wctx, pid, powerButtonEvery) == nil {
			d.clearRunFiles()
			return nil
		}
	}
	// No answer, or the guest ignored the power button: pull the plug.
	if err := d.Kill(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("stop machine %q: %w", d.base.MachineName, err)
	}
	return nil
}

// powerButton presses the VM's ACPI power button once.
func (d *Driver) powerButton(ctx context.Context) error {
	q, err := dialQMP(ctx, d.path(QMPFile))
	if err != nil {
		return err
	}
	defer q.Close()
	return q.execute("system_powerdown", nil, nil)
}

// Kill ends the machine's QEMU process at once.
func (d *Driver) Kill(ctx context.Context) error {
	pid := d.runningPID()
	if pid == 0 {
		d.clearRunFiles()
		return nil
	}
	if err := killProcess(pid); err != nil {
		return fmt.Errorf("kill machine %q (qemu pid %d): %w", d.base.MachineName, pid, err)
	}
	if err := d.waitExit(ctx, pid, 10*time.Second); err != nil {
		return fmt.Errorf("kill machine %q (qemu pid %d): %w", d.base.MachineName, pid, err)
	}
	d.clearRunFiles()
	return nil
}

// waitExit waits until process pid is gone, ctx ends or timeout passes.
func (d *Driver) waitExit(ctx context.Context, pid int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for processAlive(pid) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline.C:
			return fmt.Errorf("qemu process %d still runs after %s", pid, timeout)
		case <-tick.C:
		}
	}
	return nil
}
