package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/provision"
)

type upgradeOptions struct {
	Names []string
	// ISO is the berth-os ISO (path or URL) to move the machines to; ""
	// is this berth's.
	ISO string
	// AgentOnly leaves the guest OS as it is.
	AgentOnly bool
}

func upgradeCommand() *cli.Command {
	return &cli.Command{
		Name:      "upgrade",
		Usage:     "Move machines to this berth's guest OS (berth-os) and agent",
		ArgsUsage: "NAME...",
		Description: `Moves each machine to the berth-os of this berth (the ISO a new machine
would boot) and puts this berth's agent on it, the way docker-machine's
upgrade moved a machine to the newest boot2docker.

When the machine boots an older berth-os (` + "`berth ls`" + ` shows it in the OS
column), upgrade stops it when it runs (it says so: its containers stop;
those with a restart policy come back), swaps the ISO the machine boots
(QEMU: boot.iso in the machine folder; VirtualBox: the ISO in the VM's DVD
drive, with storageattach), starts it, waits for SSH and provisions the
agent. The data disk is kept as it is: images, containers, volumes and the
machine's SSH host key survive. The old ISO is kept until the new one has
booted and its agent answers; when that fails, upgrade puts the old ISO
back, starts the machine again when it ran, and says so. A machine that
was stopped is stopped again afterwards.

A machine whose berth-os is already this berth's, or newer, keeps it (a
newer one is left alone unless --iso names an ISO). Then, as for a
machine of the generic driver (which runs its own OS), upgrade replaces
only the agent when it differs, and restarts it: running containers keep
running. A machine with no agent is an error (` + "`berth provision`" + `
installs it).

--iso moves the machines to another berth-os ISO (a path or an http(s)
URL), newer or older. --agent-only leaves the guest OS alone.

EXAMPLES:
   berth upgrade dev
   berth upgrade $(berth ls -q)
   berth upgrade --iso ./berth-os-amd64.iso dev
   berth upgrade --agent-only dev`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "iso", Usage: "move to the berth-os ISO at `PATH|URL` instead of this berth's"},
			&cli.BoolFlag{Name: "agent-only", Usage: "replace only the agent; leave the guest OS as it is"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			if c.NArg() == 0 {
				return usagef("upgrade takes one or more machine names")
			}
			if c.Bool("agent-only") && c.IsSet("iso") {
				return usagef("--iso and --agent-only exclude each other")
			}
			return runUpgrade(c.Context, upgradeOptions{Names: c.Args().Slice(), ISO: c.String("iso"), AgentOnly: c.Bool("agent-only")}, d)
		},
	}
}

// runUpgrade upgrades every named machine, going on after failures and
// returning them all.
func runUpgrade(ctx context.Context, opts upgradeOptions, d *deps) error {
	var errs []error
	for _, name := range opts.Names {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		err := d.onMachine(ctx, name, true, func(ctx context.Context, m *machine.Machine) error {
			return upgradeMachine(ctx, opts, d, m)
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// upgradeMachine moves m to this berth's berth-os when it boots another
// one, else upgrades its agent.
func upgradeMachine(ctx context.Context, opts upgradeOptions, d *deps, m *machine.Machine) error {
	if opts.AgentOnly {
		return runProvision(ctx, provisionOptions{Names: []string{m.Name}, Upgrade: true}, d)
	}
	cur, boots, err := m.GuestOS()
	if err != nil {
		return err
	}
	if !boots {
		if opts.ISO != "" {
			return fmt.Errorf("upgrade machine %q: --iso: the %s driver's machines run their own OS: %w", m.Name, m.DriverName, drivers.ErrNotSupported)
		}
		return runProvision(ctx, provisionOptions{Names: []string{m.Name}, Upgrade: true}, d)
	}
	iso, err := d.upgradeISO(ctx, opts.ISO, cur.Arch)
	if err != nil && opts.ISO == "" {
		// No berth-os of this berth's to move to: the agent still can be.
		fmt.Fprintf(d.stderr, "%s: berth-os %s left as it is: %v\n", m.Name, cur, err)
		return upgradeAgentIfRunning(ctx, d, m)
	}
	if err != nil {
		return fmt.Errorf("upgrade machine %q: %w", m.Name, err)
	}
	next, err := machine.GuestOSOf(iso)
	if err != nil {
		return fmt.Errorf("upgrade machine %q: %w", m.Name, err)
	}
	same, err := sameContent(cur.ISO, iso)
	if err != nil {
		return fmt.Errorf("upgrade machine %q: %w", m.Name, err)
	}
	switch {
	case same:
		fmt.Fprintf(d.stdout, "%s: berth-os %s already in place\n", m.Name, cur)
		if err := upgradeAgentIfRunning(ctx, d, m); err != nil {
			return err
		}
		return commitPendingSwap(ctx, d, m)
	case opts.ISO == "" && next.Version != "" && isocache.Older(next.Version, cur.Version):
		fmt.Fprintf(d.stdout, "%s: berth-os %s is newer than this berth's %s: left as it is (--iso %s moves it anyway)\n", m.Name, cur, next, iso)
		return upgradeAgentIfRunning(ctx, d, m)
	}
	return swapGuestOS(ctx, d, m, cur, next, iso)
}

// commitPendingSwap deletes the old ISO an interrupted upgrade kept (a
// berth killed before it could), once the machine runs the new one and
// its agent answers: a no-op without one, and on a stopped machine.
func commitPendingSwap(ctx context.Context, d *deps, m *machine.Machine) error {
	bi, ok := m.Driver.(drivers.BootISO)
	if !ok {
		return nil
	}
	if st, err := m.Driver.State(ctx); err != nil || st != drivers.StateRunning {
		return nil
	}
	if err := bi.CommitBootISO(ctx); err != nil {
		return fmt.Errorf("upgrade machine %q: %w", m.Name, err)
	}
	return d.store.Save(m)
}

// upgradeAgentIfRunning upgrades the agent of a running machine; a
// stopped one gets this berth's agent at its next upgrade.
func upgradeAgentIfRunning(ctx context.Context, d *deps, m *machine.Machine) error {
	if st, err := m.Driver.State(ctx); err == nil && st == drivers.StateStopped {
		fmt.Fprintf(d.stdout, "%s: stopped, agent left as it is (`berth start %s` and `berth upgrade %s` upgrade it)\n", m.Name, m.Name, m.Name)
		return nil
	}
	return runProvision(ctx, provisionOptions{Names: []string{m.Name}, Upgrade: true}, d)
}

// upgradeISO is the berth-os ISO of arch to move machines to: src (a path
// or URL), else the one a new machine would boot.
func (d *deps) upgradeISO(ctx context.Context, src, arch string) (string, error) {
	cache := &isocache.Cache{Dir: d.store.CacheDir(), Arch: arch}
	if isTerminal(d.stderr) {
		cache.Progress = (&downloadBar{w: d.stderr, label: "downloading the berth-os ISO"}).update
	}
	return cache.Resolve(ctx, src)
}

// sameContent reports whether the files at a and b hold the same bytes
// (by SHA-256; sizes first).
func sameContent(a, b string) (bool, error) {
	sa, err := isocache.SHA256File(a)
	if err != nil {
		return false, err
	}
	sb, err := isocache.SHA256File(b)
	if err != nil {
		return false, err
	}
	return sa == sb, nil
}

// swapGuestOS moves m from berth-os cur to next (the ISO at iso) with
// machine.SwapGuestOS, reporting each step on stderr, and leaves m in
// the state it was in: running (with its host agent and port forwards)
// or stopped.
func swapGuestOS(ctx context.Context, d *deps, m *machine.Machine, cur, next machine.GuestOS, iso string) error {
	start := time.Now()
	st, err := m.Driver.State(ctx)
	if err != nil {
		return fmt.Errorf("upgrade machine %q: %w", m.Name, err)
	}
	running := st != drivers.StateStopped
	if running {
		fmt.Fprintf(d.stdout, "%s: stopping the machine to move it from berth-os %s to %s (its containers stop; its data disk is kept)\n", m.Name, cur, next)
		d.stopHostAgent(ctx, m)
	} else {
		fmt.Fprintf(d.stdout, "%s: moving the machine from berth-os %s to %s (it starts to check the new one; its data disk is kept)\n", m.Name, cur, next)
	}
	steps := newStepReport(d.stderr, false, m.Name).hook(d.steps)
	var res *provision.Result
	steps.Provision = func(ctx context.Context, m *machine.Machine) (err error) {
		res, err = bootstrap.Provision(ctx, m, provision.Options{Machine: m.Name, Upgrade: true, Binary: pickAgent})
		return err
	}
	err = d.store.SwapGuestOS(ctx, m, iso, steps)
	if now, serr := m.Driver.State(context.WithoutCancel(ctx)); serr == nil && now == drivers.StateRunning {
		if !running && err == nil {
			lc, lerr := m.Lifecycle("stop")
			if lerr == nil {
				lerr = steps.Step(ctx, "stopping the machine again", lc.Stop)
			}
			if lerr != nil {
				return fmt.Errorf("upgrade machine %q: it runs berth-os %s; stopping it again failed: %w", m.Name, next, lerr)
			}
		} else {
			added, removed, ferr := d.restoreForwards(ctx, m, true)
			reportForwards(d.stdout, m.Name, added, removed)
			d.startHostAgent(ctx, m)
			if err == nil && ferr != nil {
				fmt.Fprintf(d.stderr, "%s: restoring port forwards: %v\n", m.Name, ferr)
			}
		}
	}
	if err != nil {
		return err
	}
	took := time.Since(start).Round(100 * time.Millisecond)
	agent := ""
	if res != nil && res.Health.Version != "" {
		agent = ", agent " + res.Health.Version
		if res.Uploaded && res.OldVersion != "" && res.OldVersion != res.Health.Version {
			agent = fmt.Sprintf(", agent upgraded from %s to %s", res.OldVersion, res.Health.Version)
		}
	}
	fmt.Fprintf(d.stdout, "%s: berth-os upgraded from %s to %s%s (%s)\n", m.Name, cur, next, agent, took)
	return nil
}
