package envup

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/teamenv"
)

// forwardsWait bounds how long up --wait waits for the host agent to
// forward the ports its services publish.
var forwardsWait = 60 * time.Second

// waitForwards returns once m's driver forwards every port in uses from
// this computer (the host agent adds them as it sees the containers
// start), so that up --wait returns with the services reachable.
// Drivers without port forwarding have nothing to wait for.
func waitForwards(ctx context.Context, m *machine.Machine, uses []teamenv.PortUse) error {
	pf, ok := m.Driver.(drivers.PortForwarder)
	if !ok || len(uses) == 0 {
		return nil
	}
	deadline := time.Now().Add(forwardsWait)
	for {
		fwds, err := pf.Forwards(ctx)
		var missing []string
		for _, u := range uses {
			found := false
			for _, f := range fwds {
				found = found || f.HostPort == u.Port && f.Proto == u.Proto
			}
			if !found {
				missing = append(missing, fmt.Sprintf("%d/%s (service %s)", u.Port, u.Proto, u.Service))
			}
		}
		if err == nil && len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("list the forwards of machine %s: %w", m.Name, err)
			}
			return fmt.Errorf("the host agent of machine %s did not forward %s within %s (its log: hostagent.log in the machine folder)", m.Name, strings.Join(missing, ", "), forwardsWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
