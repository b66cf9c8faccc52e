package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/portholder"
)

// withAgentForwarder is withAgent that also gives the machine's driver as
// a PortForwarder; pf is nil for drivers whose machines need no host
// forwards (generic hosts publish on their own addresses).
func withAgentForwarder(c *cli.Context, fn func(ctx context.Context, d *deps, api *client.Client, pf drivers.PortForwarder) error) error {
	return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
		name, err := d.targetMachine(c.String("machine"))
		if err != nil {
			return err
		}
		m, err := d.store.Load(name)
		if err != nil {
			return err
		}
		pf, _ := m.Driver.(drivers.PortForwarder)
		return fn(ctx, d, api, pf)
	})
}

// containerForwards are the host forwards a container's published ports
// need: host HostIP:HostPort to the same port of the machine.
func containerForwards(ctx context.Context, api *client.Client, id string) ([]drivers.Forward, error) {
	res, err := api.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return nil, err
	}
	var fwds []drivers.Forward
	if res.Container.HostConfig == nil {
		return nil, nil
	}
	for p, bs := range res.Container.HostConfig.PortBindings {
		for _, b := range bs {
			n, err := strconv.Atoi(b.HostPort)
			if err != nil {
				continue
			}
			f := drivers.Forward{Proto: string(p.Proto()), HostIP: "127.0.0.1", HostPort: n, GuestPort: n}
			if b.HostIP.IsValid() {
				f.HostIP = b.HostIP.String()
			}
			fwds = append(fwds, f)
		}
	}
	sort.Slice(fwds, func(i, j int) bool { return fwds[i].HostPort < fwds[j].HostPort })
	return fwds, nil
}

// hostPortFree checks that f's port on the user's host is free, with an
// error that names who holds it when the OS can tell and says what to do.
func hostPortFree(f drivers.Forward) error {
	if err := portFree(f); err != nil {
		who := "another program or container"
		if h, ok := portholder.Find(f.Proto, f.HostIP, f.HostPort); ok {
			who = h.String()
		}
		return fmt.Errorf("host port %s/%s is taken by %s on this computer: publish on another one (-p OTHERPORT:CONTAINERPORT) or stop that program: %w",
			net.JoinHostPort(f.HostIP, strconv.Itoa(f.HostPort)), f.Proto, who, err)
	}
	return nil
}

// portFree tries to listen on f's host port: nil when it is free.
func portFree(f drivers.Forward) error { return hostport.Listen(f.Proto, f.HostIP, f.HostPort) }

// addForwards adds fwds, or none of them: on a failure it removes those
// it added.
func addForwards(ctx context.Context, pf drivers.PortForwarder, fwds []drivers.Forward) error {
	if pf == nil {
		return nil
	}
	for i, f := range fwds {
		err := pf.AddForward(ctx, f)
		if err == nil {
			err = listening(ctx, f)
		}
		if err != nil {
			removeForwards(ctx, pf, fwds[:i+1])
			return fmt.Errorf("forward host port %s:%d to the machine: %w", f.HostIP, f.HostPort, err)
		}
	}
	return nil
}

// listening waits a little for the hypervisor to listen on f's host port
// after AddForward: VirtualBox accepts a rule whose port it then fails to
// listen on, and only says so in VBox.log.
func listening(ctx context.Context, f drivers.Forward) error {
	deadline := time.Now().Add(3 * time.Second)
	for portFree(f) == nil {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the forward was added but nothing listens on the host port (see the hypervisor's log)")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

// removeForwards removes fwds, reporting every failure.
func removeForwards(ctx context.Context, pf drivers.PortForwarder, fwds []drivers.Forward) error {
	if pf == nil {
		return nil
	}
	var errs []error
	for _, f := range fwds {
		if err := pf.RemoveForward(context.WithoutCancel(ctx), f); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
