package hostagent

import (
	"context"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/forwards"
)

// syncForwards brings pf's forwards in line with the containers of the
// agent c reaches.
func syncForwards(ctx context.Context, c *agentclient.Client, pf drivers.PortForwarder) error {
	_, _, err := forwards.Sync(ctx, c, pf)
	return err
}
