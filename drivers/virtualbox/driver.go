package virtualbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/berthvm/berth/internal/hostport"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/virtualbox/vboxmanage"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/seed"
)

// Name is the driver's registered name.
const Name = "virtualbox"

// The files the driver keeps in the machine folder (listed in machine.Files).
const (
	diskFile = "disk.vdi"
	isoFile  = "boot.iso"
	// altISOFile is the other name of the boot ISO: `berth upgrade`
	// attaches the new ISO under the name the current one does not have.
	altISOFile = "boot.alt.iso"
	seedFile   = "seed.iso"
	// vmFolder is the base folder given to createvm: VirtualBox keeps the
	// VM's settings and logs in vmFolder/<vm name>/.
	vmFolder = "vbox"
)

// Driver makes machines as VirtualBox VMs. Its exported fields are the
// machine's stored driver settings.
type Driver struct {
	// VMName is the VM's name in VirtualBox (the machine name).
	VMName   string `json:"vmName"`
	CPUs     int    `json:"cpus"`
	MemoryMB int    `json:"memoryMB"`
	DiskMB   int    `json:"diskMB"`
	// ISO is the berth-os ISO copied into the machine at create.
	ISO string `json:"iso"`
	// ISOFile is the file name of the attached boot ISO in the machine
	// folder: "" for boot.iso, or boot.alt.iso after an upgrade.
	ISOFile string `json:"isoFile,omitempty"`
	// PreviousISOFile is the ISO an upgrade replaced, kept (detached)
	// until the machine booted the new one; "" otherwise.
	PreviousISOFile string `json:"previousISOFile,omitempty"`
	NICType         string `json:"nicType"`
	// HostOnlyCIDR, when set, adds NIC 2 on a host-only network.
	HostOnlyCIDR    string `json:"hostOnlyCIDR,omitempty"`
	HostOnlyAdapter string `json:"hostOnlyAdapter,omitempty"`
	UIType          string `json:"uiType"`
	NoVTXCheck      bool   `json:"noVTXCheck,omitempty"`
	// SSHPort is the host port on 127.0.0.1 forwarded to the guest's 22.
	SSHPort int `json:"sshPort"`
	// StopTimeout bounds the graceful stop before a power-off.
	StopTimeout time.Duration `json:"stopTimeout,omitempty"`
	// Arch is the VM's architecture, amd64 or arm64 (see HostArch); ""
	// in machines made before berth knew more than one: amd64.
	Arch string `json:"arch,omitempty"`

	base drivers.Base
	// Manager runs VBoxManage; tests replace its Runner.
	Manager *vboxmanage.Manager `json:"-"`
}

var (
	_ drivers.Driver        = (*Driver)(nil)
	_ drivers.Lifecycle     = (*Driver)(nil)
	_ drivers.PortForwarder = (*Driver)(nil)
	_ drivers.SharedFolders = (*Driver)(nil)
)

// New makes a driver with the default settings for the machine in base.
func New(base drivers.Base) *Driver {
	lock := vboxmanage.DefaultLockPath()
	if base.CacheDir != "" {
		lock = filepath.Join(base.CacheDir, "vboxmanage.lock")
	}
	return &Driver{
		VMName:   base.MachineName,
		CPUs:     defaultCPUs,
		MemoryMB: defaultMemoryMB,
		DiskMB:   defaultDiskMB,
		NICType:  defaultNICType,
		UIType:   defaultUIType,
		Arch:     HostArch(),
		base:     base,
		Manager:  &vboxmanage.Manager{Runner: &vboxmanage.ExecRunner{}, LockPath: lock},
	}
}

func (d *Driver) vbox() *vboxmanage.Manager { return d.Manager }

// DriverName implements drivers.Driver.
func (d *Driver) DriverName() string { return Name }

// Capabilities implements drivers.Driver.
func (d *Driver) Capabilities() drivers.Capabilities {
	return drivers.Capabilities{Lifecycle: true, PortForwarding: true, SharedFolders: true, KeepsDataOnRestart: true}
}

// Shares implements drivers.SharedFolders: each share is a permanent
// VirtualBox shared folder named drivers.ShareTag(i), added at create,
// that berth-os mounts with vboxsf.
func (d *Driver) Shares() []drivers.Share { return d.base.Shares }

// PreCreateCheck implements drivers.Driver: VirtualBox is installed and new
// enough, the ISO exists, the host-only network is allowed and free, and
// the CPU offers hardware virtualization. It changes nothing.
func (d *Driver) PreCreateCheck(ctx context.Context) error {
	var errs []error
	v, err := d.vbox().Version(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", drivers.ErrPreCreate, err)
	}
	if err := vboxmanage.CheckVersion(v); err != nil {
		errs = append(errs, err)
	}
	if d.arm() {
		if err := d.checkARM(v); err != nil {
			errs = append(errs, err)
		}
	}
	if d.ISO != "" && !strings.Contains(d.ISO, "://") {
		if st, err := os.Stat(d.ISO); err != nil || st.IsDir() {
			errs = append(errs, fmt.Errorf("berth-os ISO %s: not a readable file; pass another with --virtualbox-iso", d.ISO))
		}
	}
	if d.HostOnlyCIDR != "" {
		if err := d.checkHostOnly(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if !d.NoVTXCheck && !d.arm() { // VT-x/AMD-V are x86's; arm hosts have no such flags
		if err := checkHostHWVirt(runtime.GOOS, os.ReadFile); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", drivers.ErrPreCreate, err)
	}
	return nil
}

func (d *Driver) checkHostOnly(ctx context.Context) error {
	h, err := parseHostOnlyCIDR(d.HostOnlyCIDR)
	if err != nil {
		return err
	}
	out, err := d.vbox().Run(ctx, listHostOnlyIfsArgs()...)
	if err != nil {
		return fmt.Errorf("list host-only adapters: %w", err)
	}
	ours := map[string]bool{}
	for _, a := range parseHostOnlyIfs(out) {
		ours[a.Name] = true
	}
	ifaces, err := hostIfaces()
	if err != nil {
		return err
	}
	return checkCollision(h, ifaces, ours)
}

// isoPath finds the berth-os ISO to boot: --virtualbox-iso (a path or a
// URL), else isocache's default for the VM's architecture ($BERTH_ISO, a
// local build, the cache, the release location). An ISO whose volume id
// names the other architecture is refused.
func (d *Driver) isoPath(ctx context.Context) (string, error) {
	cache := &isocache.Cache{Dir: d.base.CacheDir, Arch: d.guestArch()}
	iso, err := cache.Resolve(ctx, d.ISO)
	if err != nil {
		return "", err
	}
	// Only a berth-os volume id tells; other ISOs are taken as they are.
	if id, err := isocache.VolumeID(iso); err == nil && strings.HasPrefix(id, "berth-os-") {
		if got := isocache.ArchOf(id); got != d.guestArch() {
			return "", fmt.Errorf("boot ISO %s is berth-os for %s, and the VM is %s: name the %s ISO with --virtualbox-iso (or create with --arch %s)", iso, got, d.guestArch(), d.guestArch(), got)
		}
	}
	return iso, nil
}

func (d *Driver) path(name string) string { return filepath.Join(d.base.Dir, name) }

// Create implements drivers.Driver: the data disk, the VM, its settings,
// the storage controller with the ISO, the disk and the seed. It does not
// start the VM.
func (d *Driver) Create(ctx context.Context) (err error) {
	iso, err := d.isoPath(ctx)
	if err != nil {
		return err
	}
	if err := copyFile(iso, d.path(isoFile)); err != nil {
		return fmt.Errorf("copy the ISO into the machine: %w", err)
	}
	if err := seed.Write(d.path(seedFile), seed.Config{
		InstanceID:        d.VMName,
		Hostname:          d.VMName,
		SSHAuthorizedKeys: []string{strings.TrimSpace(d.base.SSHPublicKey)},
		Mounts:            append(seedMounts(d.base.Shares), seed.Hide(d.base.Hidden)...),
	}); err != nil {
		return fmt.Errorf("write the seed ISO: %w", err)
	}
	if d.HostOnlyCIDR != "" {
		h, err := parseHostOnlyCIDR(d.HostOnlyCIDR)
		if err != nil {
			return err
		}
		if d.HostOnlyAdapter, err = d.ensureHostOnly(ctx, h); err != nil {
			return err
		}
	}
	if d.SSHPort, err = hostport.Pick(); err != nil {
		return err
	}
	v, err := d.vbox().Version(ctx)
	if err != nil {
		return err
	}
	settings := vmSettings{Arch: d.guestArch(), CPUs: d.CPUs, MemoryMB: d.MemoryMB, NICType: d.NICType, SSHPort: d.SSHPort, HostOnlyAdapter: d.HostOnlyAdapter,
		LocalhostReachable: v.AtLeastBuild(7, 0, 2)}
	steps := []struct {
		what string
		args []string
	}{
		{"create the data disk", createMediumArgs(d.path(diskFile), d.DiskMB)},
		{"create the VM", createVMArgs(d.VMName, d.path(vmFolder), d.guestArch())},
		{"configure the VM", modifyVMArgs(d.VMName, settings)},
		{"add the storage controller", storageCtlArgs(d.VMName, d.guestArch())},
		{"attach the ISO", attachArgs(d.VMName, d.guestArch(), portISO, "dvddrive", d.path(isoFile))},
		{"attach the data disk", attachArgs(d.VMName, d.guestArch(), portDisk, "hdd", d.path(diskFile))},
		{"attach the seed", attachArgs(d.VMName, d.guestArch(), portSeed, "dvddrive", d.path(seedFile))},
	}
	for i, sh := range d.base.Shares {
		steps = append(steps, struct {
			what string
			args []string
		}{"share " + sh.HostPath, sharedFolderAddArgs(d.VMName, drivers.ShareTag(i), sh.HostPath)})
	}
	for _, s := range steps {
		if _, err := d.vbox().Run(ctx, s.args...); err != nil {
			return fmt.Errorf("%s: %w", s.what, err)
		}
	}
	return nil
}

// seedMounts tells berth-os to mount each share with vboxsf at its guest
// path (berth-os falls back to virtio-9p with the same tag where no
// VirtualBox guest device exists, as under the VBoxManage double).
func seedMounts(shares []drivers.Share) []seed.Mount {
	var out []seed.Mount
	for i, s := range shares {
		out = append(out, seed.Mount{Source: drivers.ShareTag(i), Target: s.GuestPath, Type: "vboxsf"})
	}
	return out
}

// info runs showvminfo; a VM VirtualBox does not know is ErrMachineNotExist.
func (d *Driver) info(ctx context.Context) (vmInfo, error) {
	out, err := d.vbox().Run(ctx, showVMInfoArgs(d.VMName)...)
	if vboxmanage.IsNotFound(err) {
		return vmInfo{}, fmt.Errorf("VirtualBox VM %q: %w", d.VMName, drivers.ErrMachineNotExist)
	}
	if err != nil {
		return vmInfo{}, err
	}
	return parseMachineReadable(out), nil
}

// State implements drivers.Driver with one showvminfo call.
func (d *Driver) State(ctx context.Context) (drivers.State, error) {
	info, err := d.info(ctx)
	if err != nil {
		return drivers.StateError, fmt.Errorf("state of VM %q: %w", d.VMName, err)
	}
	return stateOf(info.VMState), nil
}

// SSHEndpoint implements drivers.Driver from the stored forward, without
// asking VirtualBox.
func (d *Driver) SSHEndpoint(context.Context) (drivers.Endpoint, error) {
	if d.SSHPort == 0 {
		return drivers.Endpoint{}, fmt.Errorf("VM %q has no SSH port yet (not created)", d.VMName)
	}
	return drivers.Endpoint{Host: "127.0.0.1", Port: d.SSHPort, User: "root"}, nil
}

// Start implements drivers.Lifecycle. In the usual case it is one startvm
// call; a VM that is already running makes startvm fail with a lock error,
// and then the state decides.
func (d *Driver) Start(ctx context.Context) error {
	if !hostport.Free(d.SSHPort) {
		// Taken by the running VM itself, or by another program while
		// the VM was off.
		st, err := d.State(ctx)
		if err != nil {
			return err
		}
		if st == drivers.StateRunning || st == drivers.StateStarting {
			return nil
		}
		old := d.SSHPort
		if err := d.moveSSHPort(ctx); err != nil {
			return err
		}
		if err := d.startVM(ctx); err != nil {
			// The caller saves settings only after a successful start:
			// put the old rule back so that VirtualBox and they agree.
			_, _ = d.vbox().Run(ctx, natDeleteArgs(d.VMName, sshRule)...) // absent is fine
			if _, rerr := d.vbox().Run(ctx, natAddArgs(d.VMName, natRule(sshRule, "tcp", "127.0.0.1", old, 22))...); rerr == nil {
				d.SSHPort = old
			}
			return err
		}
		return nil
	}
	return d.startVM(ctx)
}

// startVM runs startvm and explains its failure.
func (d *Driver) startVM(ctx context.Context) error {
	_, err := d.vbox().Run(ctx, startVMArgs(d.VMName, d.UIType)...)
	if err == nil {
		return nil
	}
	if vboxmanage.IsLocked(err) {
		if st, serr := d.State(ctx); serr == nil && (st == drivers.StateRunning || st == drivers.StateStarting) {
			return nil
		}
	}
	if vboxmanage.IsNotFound(err) {
		return fmt.Errorf("start VM %q: %w", d.VMName, drivers.ErrMachineNotExist)
	}
	if diag := diagnoseStart(d.logDir()); diag != nil {
		return fmt.Errorf("start VM %q: %w; %w", d.VMName, err, diag)
	}
	return fmt.Errorf("start VM %q: %w", d.VMName, err)
}

// logDir is where VirtualBox keeps the VM's VBox.log.
func (d *Driver) logDir() string { return filepath.Join(d.base.Dir, vmFolder, d.VMName, "Logs") }

// moveSSHPort picks a new SSH port when another program took the old one
// while the machine was stopped.
func (d *Driver) moveSSHPort(ctx context.Context) error {
	port, err := hostport.Pick()
	if err != nil {
		return err
	}
	if _, err := d.vbox().Run(ctx, natDeleteArgs(d.VMName, sshRule)...); err != nil && !isMissingRule(err) {
		return fmt.Errorf("move the SSH forward of VM %q: %w", d.VMName, err)
	}
	if _, err := d.vbox().Run(ctx, natAddArgs(d.VMName, natRule(sshRule, "tcp", "127.0.0.1", port, 22))...); err != nil {
		return fmt.Errorf("move the SSH forward of VM %q: %w", d.VMName, err)
	}
	d.SSHPort = port
	return nil
}

// isMissingRule reports VirtualBox's error for deleting an absent NAT rule.
func isMissingRule(err error) bool {
	var ce *vboxmanage.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "NS_ERROR_INVALID_ARG") && strings.Contains(ce.Stderr, "RemoveRedirect")
}

// pollInterval is how often Stop looks at the state.
var pollInterval = 500 * time.Millisecond

// defaultStopTimeout bounds a graceful stop.
const defaultStopTimeout = 90 * time.Second

// Stop implements drivers.Lifecycle: ACPI power button, wait until off,
// else power off when the timeout or ctx ends.
func (d *Driver) Stop(ctx context.Context) error {
	st, err := d.State(ctx)
	if err != nil {
		return err
	}
	switch st {
	case drivers.StateStopped, drivers.StateSaved:
		return nil
	case drivers.StatePaused:
		return d.Kill(ctx)
	}
	if _, err := d.vbox().Run(ctx, controlVMArgs(d.VMName, "acpipowerbutton")...); err != nil {
		if isNotRunning(err) {
			return nil
		}
		return fmt.Errorf("stop VM %q: %w", d.VMName, err)
	}
	timeout := d.StopTimeout
	if timeout == 0 {
		timeout = defaultStopTimeout
	}
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		select {
		case <-wait.Done():
			// Graceful stop took too long: power off, with a context of its
			// own so that a cancelled ctx still leaves the VM off.
			kctx, kcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer kcancel()
			return d.Kill(kctx)
		case <-time.After(pollInterval):
		}
		st, err := d.State(wait)
		if err != nil {
			if wait.Err() != nil {
				continue
			}
			return err
		}
		if st == drivers.StateStopped {
			return nil
		}
	}
}

// isNotRunning reports controlvm's "Machine 'x' is not currently running".
func isNotRunning(err error) bool {
	var ce *vboxmanage.CommandError
	return errors.As(err, &ce) && strings.Contains(ce.Stderr, "is not currently running")
}

// Kill implements drivers.Lifecycle with controlvm poweroff.
func (d *Driver) Kill(ctx context.Context) error {
	_, err := d.vbox().Run(ctx, controlVMArgs(d.VMName, "poweroff")...)
	if err == nil || isNotRunning(err) {
		return nil
	}
	if vboxmanage.IsNotFound(err) {
		return fmt.Errorf("power off VM %q: %w", d.VMName, drivers.ErrMachineNotExist)
	}
	return fmt.Errorf("power off VM %q: %w", d.VMName, err)
}

// Remove implements drivers.Driver: power off, unregister and delete the
// VM with its disk, then the driver's files. A VM that VirtualBox does not
// know is no error; a disk left by a half-made create is closed and
// deleted.
func (d *Driver) Remove(ctx context.Context) error {
	err := d.Kill(ctx)
	switch {
	case errors.Is(err, drivers.ErrMachineNotExist):
		if _, serr := os.Stat(d.path(diskFile)); serr == nil {
			// createmedium registered the disk; forget it in VirtualBox.
			if _, cerr := d.vbox().Run(ctx, closeMediumArgs(d.path(diskFile))...); cerr != nil && !isUnknownMedium(cerr) {
				return fmt.Errorf("remove VM %q: close its disk: %w", d.VMName, cerr)
			}
		}
	case err != nil:
		return fmt.Errorf("remove VM %q: %w", d.VMName, err)
	default:
		if err := d.unregister(ctx); err != nil {
			return err
		}
		// A create that failed before the disk was attached leaves it
		// registered on its own: unregistervm --delete does not see it.
		if _, serr := os.Stat(d.path(diskFile)); serr == nil {
			if _, cerr := d.vbox().Run(ctx, closeMediumArgs(d.path(diskFile))...); cerr != nil && !isUnknownMedium(cerr) {
				return fmt.Errorf("remove VM %q: close its disk: %w", d.VMName, cerr)
			}
		}
	}
	var errs []error
	if d.PreviousISOFile != "" {
		// Detached and still known to VirtualBox: forget it.
		if _, err := d.vbox().Run(ctx, closeDVDArgs(d.path(d.PreviousISOFile))...); err != nil && !isUnknownMedium(err) {
			return fmt.Errorf("remove VM %q: close its old ISO: %w", d.VMName, err)
		}
	}
	for _, f := range []string{diskFile, isoFile, altISOFile, seedFile, vmFolder} {
		if f == "" || d.base.Dir == "" {
			continue // never the machine folder itself
		}
		if err := os.RemoveAll(d.path(f)); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("remove VM %q files: %w", d.VMName, err)
	}
	return nil
}

// unregister runs unregistervm --delete, waiting out the short moment after
// a power-off in which VirtualBox still holds the VM's session.
func (d *Driver) unregister(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		_, err := d.vbox().Run(ctx, unregisterArgs(d.VMName)...)
		if err == nil || vboxmanage.IsNotFound(err) {
			return nil
		}
		if !vboxmanage.IsLocked(err) || attempt >= 20 {
			return fmt.Errorf("remove VM %q: %w", d.VMName, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("remove VM %q: %w", d.VMName, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// isUnknownMedium reports closemedium's error for a medium VirtualBox does
// not know.
func isUnknownMedium(err error) bool {
	var ce *vboxmanage.CommandError
	return errors.As(err, &ce) && (strings.Contains(ce.Stderr, "Could not find file for the medium") || strings.Contains(ce.Stderr, "VBOX_E_FILE_ERROR") || strings.Contains(ce.Stderr, "VBOX_E_OBJECT_NOT_FOUND"))
}

// copyFile copies src to dst (0600), through a temporary name.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, dst)
}
