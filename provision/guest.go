package provision

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// Init is how a machine keeps the agent running.
type Init string

// The init systems provisioning knows.
const (
	InitBerthOS Init = "berth-os" // berth-os's agent slot
	InitSystemd Init = "systemd"
	InitNone    Init = "" // neither: provisioning refuses
)

// Guest is what provisioning learns about a machine before changing it.
type Guest struct {
	ID         string // os-release ID ("berth-os", "debian")
	PrettyName string // os-release PRETTY_NAME
	Arch       string // uname -m
	Init       Init
	User       string
	Root       bool // the SSH user is root
	Sudo       bool // the SSH user may run `sudo -n`
	SHA256Sum  bool // sha256sum is installed
	// Root only (read by the same round trip, as root needs no sudo):
	// RootChecked says AgentSHA256 and Registries were read. AgentSHA256
	// is the installed agent's checksum ("" when there is none);
	// Registries says the insecure registries file exists.
	RootChecked bool
	AgentSHA256 string
	Registries  bool
}

// The failures Detect and Check report before anything is changed.
var (
	ErrNoRoot       = errors.New("the SSH user is not root and cannot use sudo without a password")
	ErrNoSupervisor = errors.New("the machine has neither systemd nor berth-os's agent slot to keep the agent running")
	ErrNoSHA256Sum  = errors.New("the machine has no sha256sum to check the uploaded agent with")
)

// detectScript prints os-release and one berth.KEY=VALUE line per fact.
// It changes nothing on the machine. As root it also reads what
// provisioning would otherwise ask in more round trips (each costs a
// fraction of a second on an emulated machine): the installed agent's
// checksum (as remoteSHA256 reads it) and whether the insecure
// registries file exists.
var detectScript = `cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
echo "berth.arch=$(uname -m)"
echo "berth.uid=$(id -u)"
echo "berth.user=$(id -un 2>/dev/null)"
if [ -d /run/systemd/system ]; then echo berth.systemd=1; fi
if command -v sha256sum >/dev/null 2>&1; then echo berth.sha256sum=1; fi
if [ "$(id -u)" != 0 ] && sudo -n true >/dev/null 2>&1; then echo berth.sudo=1; fi
if [ "$(id -u)" = 0 ]; then
  echo "berth.agent_sha256=$(` + agentSumScript + ` | cut -d' ' -f1)"
  if [ -e ` + berthapi.InsecureRegistriesPath + ` ]; then echo berth.registries=1; fi
fi
true`

// Detect asks the machine what it is.
func Detect(ctx context.Context, c *sshutil.Client) (Guest, error) {
	out, err := c.Output(ctx, detectScript)
	if err != nil {
		return Guest{}, fmt.Errorf("detect the machine's system: %w", err)
	}
	return parseGuest(string(out)), nil
}

// parseGuest reads detectScript's output.
func parseGuest(out string) Guest {
	var g Guest
	systemd := false
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		} else {
			v = strings.Trim(v, `'"`)
		}
		switch k {
		case "ID":
			g.ID = v
		case "PRETTY_NAME":
			g.PrettyName = v
		case "berth.arch":
			g.Arch = v
		case "berth.uid":
			g.Root = v == "0"
		case "berth.user":
			g.User = v
		case "berth.systemd":
			systemd = true
		case "berth.sha256sum":
			g.SHA256Sum = true
		case "berth.sudo":
			g.Sudo = true
		case "berth.agent_sha256":
			g.RootChecked, g.AgentSHA256 = true, v
		case "berth.registries":
			g.Registries = true
		}
	}
	switch {
	case g.ID == "berth-os":
		g.Init = InitBerthOS
	case systemd:
		g.Init = InitSystemd
	}
	if g.PrettyName == "" {
		g.PrettyName = g.ID
	}
	return g
}

// Check names everything that keeps provisioning from working on g, all at
// once, before anything is changed.
func (g Guest) Check() error {
	var errs []error
	if !g.Root && !g.Sudo {
		errs = append(errs, fmt.Errorf("%w (user %q; `sudo -n true` failed): log in as root or allow %s passwordless sudo", ErrNoRoot, g.User, g.User))
	}
	if g.Init == InitNone {
		errs = append(errs, fmt.Errorf("%w (%s)", ErrNoSupervisor, orUnknown(g.PrettyName)))
	}
	if !g.SHA256Sum {
		errs = append(errs, fmt.Errorf("%w: install coreutils or busybox", ErrNoSHA256Sum))
	}
	return errors.Join(errs...)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown system"
	}
	return s
}

// asRoot prefixes cmd with sudo when the SSH user is not root. cmd is run
// by sh either way.
func (g Guest) asRoot(cmd string) string {
	if g.Root {
		return cmd
	}
	return "sudo -n sh -c " + shellQuote(cmd)
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return sshutil.Quote(s) }
