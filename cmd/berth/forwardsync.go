package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
)

// How forwards follow containers. The host forwards of a machine are
// brought in line with its containers by syncForwards whenever berth
// talks to the machine to change containers (run, container start, stop,
// restart, kill, rm) and when a machine starts (start, restart): every
// published port of a running, restarting or paused container is
// forwarded; forwards of containers that stopped, exited on their own or
// were removed by the agent (run -d --rm) are removed. Between two such
// commands a container that exited on its own keeps its forward, which
// then answers with a reset connection; nothing on the host watches the
// agent.

// syncForwards makes pf's forwards match the containers api lists and
// returns what it added and removed. Forwards that are already right are
// left alone; a missing forward whose host port another program holds is
// an error naming that program, after the other forwards were made.
func syncForwards(ctx context.Context, api *client.Client, pf drivers.PortForwarder) (added, removed []drivers.Forward, err error) {
	return syncForwardsRenew(ctx, api, pf, false)
}

// syncForwardsRenew is syncForwards that, with renew, also makes again
// the forwards that are already right: after a VM starts, a VirtualBox rule
// kept in its settings may not listen (its port was taken at power-up) or
// its port may be held by another program; made again, it listens, or the
// error names who holds the port.
func syncForwardsRenew(ctx context.Context, api *client.Client, pf drivers.PortForwarder, renew bool) (added, removed []drivers.Forward, err error) {
	if pf == nil {
		return nil, nil, nil
	}
	list, err := api.ContainerList(ctx, client.ContainerListOptions{All: true})
	if err != nil {
		return nil, nil, fmt.Errorf("list containers: %w", err)
	}
	want := map[drivers.Forward]bool{}
	// Forwards of containers just created are kept but not added: another
	// berth run may have added them and be about to start the container.
	keep := map[drivers.Forward]bool{}
	var wanted []drivers.Forward
	for _, c := range list.Items {
		created := c.State == ctypes.StateCreated
		if len(c.Ports) == 0 || (!publishing(c.State) && !created) {
			continue
		}
		fwds, err := containerForwards(ctx, api, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("published ports of container %s: %w", c.ID[:12], err)
		}
		for _, f := range fwds {
			if created {
				keep[f] = true
			} else if !want[f] {
				want[f] = true
				wanted = append(wanted, f)
			}
		}
	}
	have, err := pf.Forwards(ctx)
	if err != nil {
		return nil, nil, err
	}
	has := map[drivers.Forward]bool{}
	var errs []error
	for _, f := range have {
		if keep[f] && !want[f] {
			continue
		}
		if want[f] {
			// A forward that nothing listens on is dead (VirtualBox keeps a
			// rule whose port was taken when the VM started, without
			// listening): it is made again below.
			if !renew && portFree(f) != nil {
				has[f] = true
				continue
			}
			if err := pf.RemoveForward(context.WithoutCancel(ctx), f); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := pf.RemoveForward(context.WithoutCancel(ctx), f); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, f)
	}
	for _, f := range wanted {
		if has[f] {
			continue
		}
		if err := hostPortFree(f); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := addForwards(ctx, pf, []drivers.Forward{f}); err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, f)
	}
	return added, removed, errors.Join(errs...)
}

// publishing reports whether a container in state st needs its forwards:
// it runs, or will again by itself.
func publishing(st ctypes.ContainerState) bool {
	switch st {
	case ctypes.StateRunning, ctypes.StateRestarting, ctypes.StatePaused:
		return true
	}
	return false
}

// agentStartTimeout bounds the wait for the agent of a machine that just
// booted, before its forwards are restored.
const agentStartTimeout = 2 * time.Minute

// restoreForwards brings the forwards of machine m, which just started,
// in line with its containers once its agent answers: QEMU lost every
// forward with its process, VirtualBox kept those of containers that may
// not have come back, and when booted (the VM was not running before) kept
// ones are made again (see syncForwardsRenew). Containers with --restart always or unless-stopped
// are running again by the time the agent answers. A machine without an
// agent, or whose driver needs no forwards, is left alone.
func (d *deps) restoreForwards(ctx context.Context, m *machine.Machine, booted bool) (added, removed []drivers.Forward, err error) {
	pf, ok := m.Driver.(drivers.PortForwarder)
	if !ok || d.steps.AgentHealthy == nil {
		return nil, nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, agentStartTimeout)
	defer cancel()
	for {
		ac, err := agentclient.ForLoaded(ctx, m)
		if err == nil {
			if _, err = ac.Health(ctx); err == nil {
				added, removed, err = syncForwardsRenew(ctx, ac.Client, pf, booted)
				ac.Close()
				if err != nil {
					return added, removed, fmt.Errorf("restore the host forwards of machine %q: %w", m.Name, err)
				}
				return added, removed, nil
			}
			ac.Close()
		}
		if strings.Contains(err.Error(), "no agent installed") {
			return nil, nil, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, fmt.Errorf("restore the host forwards of machine %q: its agent did not answer within %v (see `berth inspect %s`): %w", m.Name, agentStartTimeout, m.Name, err)
		case <-time.After(time.Second):
		}
	}
}

// reportForwards tells what restoreForwards changed, in one line each.
func reportForwards(w io.Writer, name string, added, removed []drivers.Forward) {
	if len(added) > 0 {
		fmt.Fprintf(w, "Forwarded to %s again: %s\n", name, forwardList(added))
	}
	if len(removed) > 0 {
		fmt.Fprintf(w, "Removed forwards to %s of stopped containers: %s\n", name, forwardList(removed))
	}
}

// forwardList is "127.0.0.1:8080/tcp, 127.0.0.1:5353/udp".
func forwardList(fwds []drivers.Forward) string {
	s := make([]string, len(fwds))
	for i, f := range fwds {
		s[i] = f.HostIP + ":" + strconv.Itoa(f.HostPort) + "/" + f.Proto
	}
	return strings.Join(s, ", ")
}
