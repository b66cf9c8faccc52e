package forwards

import (
	"context"
	"errors"
	"fmt"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
)

// Sync makes pf's forwards match the containers a lists and returns what
// it added and removed. Forwards that are already right are left alone; a
// missing forward whose host port another program holds is an error
// naming that program, after the other forwards were made. A nil pf (a
// machine that needs no host forwards) is left alone.
func Sync(ctx context.Context, a Agent, pf drivers.PortForwarder) (added, removed []drivers.Forward, err error) {
	return reconcile(ctx, a, pf, false)
}

// Renew is Sync that also makes again the forwards that are already
// right: after a VM starts, a VirtualBox rule kept in its settings may not
// listen (its port was taken at power-up) or its port may be held by
// another program; made again, it listens, or the error names who holds
// the port.
func Renew(ctx context.Context, a Agent, pf drivers.PortForwarder) (added, removed []drivers.Forward, err error) {
	return reconcile(ctx, a, pf, true)
}

// reconcile is Sync, and with renew Renew.
func reconcile(ctx context.Context, a Agent, pf drivers.PortForwarder, renew bool) (added, removed []drivers.Forward, err error) {
	if pf == nil {
		return nil, nil, nil
	}
	list, err := a.ContainerList(ctx, client.ContainerListOptions{All: true})
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
		fwds, err := OfContainer(ctx, a, c.ID)
		if err != nil {
			return nil, nil, fmt.Errorf("published ports of container %s: %w", shortID(c.ID), err)
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
		if err := HostPortFree(f); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := Add(ctx, pf, []drivers.Forward{f}); err != nil {
			errs = append(errs, err)
			continue
		}
		added = append(added, f)
	}
	return added, removed, errors.Join(errs...)
}

// shortID is the 12-character form of a container ID.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
