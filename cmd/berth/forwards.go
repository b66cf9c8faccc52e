package main

import (
	"context"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
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
