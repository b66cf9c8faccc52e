// Package drivers defines the contract between berth and the programs that
// make machines: VirtualBox, QEMU, or an existing host reached over SSH.
//
// A driver is built from small role interfaces. Driver is mandatory; the
// others are optional and detected with a type assertion, so a driver never
// carries a method that only answers "not supported".
package drivers

import (
	"context"
	"errors"
	"strconv"
)

// ErrNotSupported is returned (wrapped) when a machine's driver lacks a role
// that a command needs, for example stopping a generic machine.
var ErrNotSupported = errors.New("not supported by this driver")

// ErrMachineNotExist is returned (wrapped) by drivers that are asked about a
// VM that their hypervisor does not know (removed outside berth).
var ErrMachineNotExist = errors.New("machine does not exist in the hypervisor")

// Base is what every driver is handed when it is made: where its machine
// lives and the SSH key the machine must accept.
type Base struct {
	// MachineName is the validated machine name.
	MachineName string
	// Dir is the machine folder (0700). Drivers keep every file they make
	// there, under names listed in machine.Files.
	Dir string
	// CacheDir is the shared cache (~/.berth/cache), for ISOs.
	CacheDir string
	// SSHPublicKey is the authorized_keys line for the machine's key.
	SSHPublicKey string
	// Shares are the host folders the machine shares (kept in the
	// machine's config). Drivers with the SharedFolders role attach them;
	// the CLI refuses shares for the others.
	Shares []Share
	// Hidden are guest paths inside Shares that the guest covers with an
	// empty read-only folder at every boot: the berth store (~/.berth,
	// every machine's SSH key and disk) when a share holds it. Drivers
	// that attach shares MUST have the guest hide these after mounting
	// the shares (seed.Hide does it for berth-os).
	Hidden []string
}

// Endpoint says how to reach a machine's SSH server.
type Endpoint struct {
	Host string // "127.0.0.1" for forwarded ports
	Port int
	User string // "root" on berth-os
	// KeyPath overrides the machine's own key (the generic driver uses the
	// key the user named). Empty means the machine's key.
	KeyPath string
}

// Driver is the mandatory role.
type Driver interface {
	// DriverName is the registered name ("qemu", "virtualbox", "generic").
	DriverName() string

	// Capabilities says which optional roles and features the driver has.
	Capabilities() Capabilities

	// PreCreateCheck verifies that the host can create this machine (the
	// hypervisor is installed, recent enough, the flags make sense). It
	// MUST NOT change anything on the host. Failures SHOULD wrap
	// ErrPreCreate so that the CLI exits with its documented code.
	PreCreateCheck(ctx context.Context) error

	// Create makes the machine's resources (disks, seed, VM definition) but
	// does not start it. On error it MUST leave nothing that Remove cannot
	// clean up.
	Create(ctx context.Context) error

	// Remove deletes everything Create made. It MUST succeed on a machine
	// that is already gone or was half created, and MUST stop a running VM
	// first.
	Remove(ctx context.Context) error

	// State reports the machine's state. It MUST NOT block longer than ctx
	// allows and MUST return StateError with a non-nil error only when the
	// state cannot be read.
	State(ctx context.Context) (State, error)

	// SSHEndpoint says where the machine's SSH server listens. It MAY fail
	// when the machine is not running.
	SSHEndpoint(ctx context.Context) (Endpoint, error)
}

// Lifecycle is the role of drivers that start and stop their machines.
// The generic driver does not have it.
type Lifecycle interface {
	// Start boots the machine and returns once the hypervisor runs it (not
	// once SSH answers). It MUST be idempotent: Start on a running machine
	// returns nil and changes nothing.
	Start(ctx context.Context) error

	// Stop shuts the machine down gracefully (ACPI power button), waits
	// until it is off, and kills it when ctx or the driver's own timeout
	// expires. It MUST be idempotent: Stop on a stopped machine returns nil.
	Stop(ctx context.Context) error

	// Kill stops the machine at once, without a shutdown. It MUST be
	// idempotent.
	Kill(ctx context.Context) error
}

// Forward is a port forward from the user's host to the machine.
type Forward struct {
	Proto     string // "tcp" or "udp"
	HostIP    string // "127.0.0.1" unless the user named another
	HostPort  int
	GuestPort int
}

// PortForwarder is the role of drivers whose machines sit behind NAT and
// need host forwards to publish container ports.
type PortForwarder interface {
	// AddForward adds f on the running machine. Adding an existing forward
	// MUST be a no-op.
	AddForward(ctx context.Context, f Forward) error
	// RemoveForward removes f. Removing a missing forward MUST be a no-op.
	RemoveForward(ctx context.Context, f Forward) error
	// Forwards lists the forwards AddForward made that the machine has
	// now, with HostIP and Proto filled in; never the driver's own (SSH).
	// Forwards the hypervisor keeps in the VM's settings (VirtualBox) are
	// listed on a stopped machine too; those that die with the VM process
	// (QEMU) are not, and a machine that is not running MAY list none.
	Forwards(ctx context.Context) ([]Forward, error)
}

// Share is a host folder shared into the machine.
type Share struct {
	// HostPath is the absolute path of an existing folder on the user's
	// host.
	HostPath string
	// GuestPath is the absolute path where berth-os mounts it.
	GuestPath string
}

// ShareTag is the name of the i-th share (from 0) between host and guest:
// the 9p mount_tag on QEMU, the shared folder name on VirtualBox.
func ShareTag(i int) string { return "berth" + strconv.Itoa(i) }

// SharedFolders is the role of drivers that share host folders into their
// machines.
type SharedFolders interface {
	// Shares returns the folders the driver attaches: Base.Shares. The
	// driver MUST attach share i under ShareTag(i) and have the guest
	// mount it at its GuestPath at every boot, so that a file written on
	// either side is seen at once on the other.
	Shares() []Share
}

// Capabilities is what a driver can do, for help text, checks and the
// conformance suite.
type Capabilities struct {
	Lifecycle      bool // implements Lifecycle
	PortForwarding bool // implements PortForwarder
	SharedFolders  bool // implements SharedFolders
	// KeepsDataOnRestart says a file written to /var/lib/berth survives
	// Stop + Start.
	KeepsDataOnRestart bool
}

// ErrPreCreate marks errors from PreCreateCheck (exit code 3).
var ErrPreCreate = errors.New("pre-create check failed")
