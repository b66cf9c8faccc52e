package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// DefaultHealthTimeout bounds the wait for a started agent to answer; a
// machine under software emulation takes seconds to start a program.
const DefaultHealthTimeout = 2 * time.Minute

// ErrNoAgent means Upgrade found no agent to upgrade.
var ErrNoAgent = errors.New("no agent is installed")

// Options tune Provision.
type Options struct {
	// Machine names the machine in messages.
	Machine string
	// Binary returns the agent for a machine's `uname -m`; nil means the
	// agents embedded in berth (agentbin.ForMachine).
	Binary func(unameM string) (*agentbin.Binary, error)
	// Upgrade only replaces an installed agent (and fails with ErrNoAgent
	// when there is none).
	Upgrade bool
	// HealthTimeout bounds the wait for the agent's health check; zero
	// means DefaultHealthTimeout.
	HealthTimeout time.Duration
	// Progress is told each step as it begins.
	Progress func(step string)
	// UploadProgress is told the bytes sent after each chunk.
	UploadProgress func(sent, total int64)
	// InsecureRegistries is the machine's list of plain-HTTP registries,
	// written to berthapi.InsecureRegistriesPath (none removes the file).
	InsecureRegistries []string
}

// Result says what Provision found and did.
type Result struct {
	Guest Guest
	// Changed says anything changed on the machine (a second run of the
	// same berth reports false).
	Changed bool
	// Uploaded says the agent binary was replaced; OldSHA256 is the one
	// before ("" when there was none).
	Uploaded  bool
	OldSHA256 string
	NewSHA256 string
	// OldVersion is the version the agent answered with before, if any.
	OldVersion string
	Health     berthapi.Health
}

// Provision puts the agent on the machine c is connected to, as a
// supervised service, and returns once its health check answers.
// Everything that would keep it from working (no root, no supervisor, no
// agent build for the architecture) fails before anything is changed.
func Provision(ctx context.Context, c *sshutil.Client, opts Options) (*Result, error) {
	step := func(s string) {
		if opts.Progress != nil {
			opts.Progress(s)
		}
	}
	pick := opts.Binary
	if pick == nil {
		pick = agentbin.ForMachine
	}
	step("detecting the machine's system")
	g, err := Detect(ctx, c)
	if err != nil {
		return nil, err
	}
	res := &Result{Guest: g}
	if err := g.Check(); err != nil {
		return res, fmt.Errorf("cannot install the agent on %s: %w", g.describe(), err)
	}
	bin, err := pick(g.Arch)
	if err != nil {
		return res, fmt.Errorf("cannot install the agent on %s: %w", g.describe(), err)
	}
	res.NewSHA256 = bin.SHA256
	svc := serviceFor(g)

	cur, err := remoteSHA256(ctx, c, g)
	if err != nil {
		return res, err
	}
	res.OldSHA256 = cur
	if opts.Upgrade && cur == "" {
		return res, fmt.Errorf("upgrade: %w on this machine (run `berth provision %s`)", ErrNoAgent, opts.Machine)
	}
	oldPid := 0
	if cur != "" && cur != bin.SHA256 {
		if h, err := quickHealth(ctx, c, g, opts.Machine); err == nil {
			res.OldVersion, oldPid = h.Version, h.Pid
		}
	}

	wantVersion := ""
	if cur != bin.SHA256 {
		step(fmt.Sprintf("uploading the agent (%s, %.1f MB)", bin.Arch, float64(bin.Size())/(1<<20)))
		if wantVersion, err = upload(ctx, c, g, bin, opts.UploadProgress); err != nil {
			return res, err
		}
		res.Uploaded, res.Changed = true, true
	}
	step("installing the agent service (" + string(g.Init) + ")")
	svcChanged, err := svc.install(ctx, c, g)
	if err != nil {
		return res, err
	}
	res.Changed = res.Changed || svcChanged
	if res.Uploaded && cur != "" || svcChanged {
		if err := svc.restart(ctx, c, g); err != nil {
			return res, err
		}
	} else if err := svc.ensureRunning(ctx, c, g); err != nil {
		return res, err
	}

	step("setting the registries reached over plain HTTP")
	if err := writeInsecureRegistries(ctx, c, g, opts.InsecureRegistries); err != nil {
		return res, err
	}

	step("waiting for the agent to answer")
	timeout := opts.HealthTimeout
	if timeout == 0 {
		timeout = DefaultHealthTimeout
	}
	h, err := waitHealthy(ctx, c, g, opts.Machine, timeout, func(h berthapi.Health) bool {
		return (wantVersion == "" || h.Version == wantVersion) && (oldPid == 0 || h.Pid != oldPid)
	})
	if err != nil {
		tail := strings.TrimSpace(svc.logTail(context.WithoutCancel(ctx), c, g))
		if tail != "" {
			err = fmt.Errorf("%w\nthe agent's log ends with:\n%s", err, indent(tail))
		}
		return res, err
	}
	res.Health = h
	return res, nil
}

// Uninstall stops and removes the agent and its service from the machine.
// Its data under /var/lib/berth stays.
func Uninstall(ctx context.Context, c *sshutil.Client) error {
	g, err := Detect(ctx, c)
	if err != nil {
		return err
	}
	if !g.Root && !g.Sudo {
		return fmt.Errorf("remove the agent from %s: %w", g.describe(), ErrNoRoot)
	}
	if g.Init == InitNone {
		return nil // provisioning never installed anything here
	}
	return serviceFor(g).uninstall(ctx, c, g)
}

// quickHealth asks a running agent for its health once.
func quickHealth(ctx context.Context, c *sshutil.Client, g Guest, machine string) (berthapi.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ac, err := agentclient.New(ctx, c, agentclient.Options{Machine: machine, Sudo: !g.Root})
	if err != nil {
		return berthapi.Health{}, err
	}
	defer ac.Close()
	return ac.Health(ctx)
}

// waitHealthy polls the agent's health until ok accepts it or timeout
// passes.
func waitHealthy(ctx context.Context, c *sshutil.Client, g Guest, machine string, timeout time.Duration, ok func(berthapi.Health) bool) (berthapi.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		h, err := quickHealth(ctx, c, g, machine)
		if err == nil {
			if ok(h) {
				return h, nil
			}
			err = fmt.Errorf("the old agent (version %s, pid %d) still answers", h.Version, h.Pid)
		}
		last = err
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) && last != nil {
				return berthapi.Health{}, fmt.Errorf("the agent did not answer its health check within %s: %w", timeout, last)
			}
			return berthapi.Health{}, fmt.Errorf("wait for the agent: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (g Guest) describe() string {
	return fmt.Sprintf("%s (%s, %s)", orUnknown(g.PrettyName), g.Arch, g.User)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
