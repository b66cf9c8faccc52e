package hostagent

import (
	"context"
	"log/slog"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
)

// forwardActions are the container events after which the forwards may
// be out of line with the containers.
var forwardActions = map[events.Action]bool{
	events.ActionCreate: true, events.ActionStart: true, events.ActionDie: true,
	events.ActionStop: true, events.ActionKill: true, events.ActionRestart: true,
	events.ActionDestroy: true, events.ActionPause: true, events.ActionUnPause: true,
}

// pollEvery is how often the forwards are checked against an agent too
// old to stream its events.
const pollEvery = time.Second

// followContainers keeps pf's forwards in line with the containers of the
// agent c reaches, until ctx ends: once at once, then after every event
// of a container that publishes ports (see published). Nothing runs
// between events. A nil pf (a machine that publishes on its own
// addresses) needs no forwards; the events are followed all the same, for
// reconnected: it is called whenever the stream comes back after it broke
// (the agent restarted, maybe replaced).
func followContainers(ctx context.Context, c *agentclient.Client, pf drivers.PortForwarder, log *slog.Logger, reconnected func()) {
	kick := make(chan struct{}, 1)
	poke := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-kick:
				if pf == nil {
					continue
				}
				if err := syncForwards(ctx, c, pf); err != nil && ctx.Err() == nil {
					log.Warn("sync the host forwards", "err", err)
				}
			}
		}
	}()
	poke()
	pub := published{}
	matters := func(m events.Message) bool { return pf != nil && pub.matters(ctx, c, m) }
	for broke := false; ctx.Err() == nil; broke = true {
		if broke {
			reconnected()
		}
		res := c.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("type", string(events.ContainerEventType))})
		err := followEvents(ctx, res, matters, poke)
		if ctx.Err() != nil {
			return
		}
		if errdefs.IsNotFound(err) || errdefs.IsNotImplemented(err) {
			if pf == nil {
				return // nothing to check
			}
			log.Info("the agent streams no events; checking the forwards every second", "err", err)
			pollForwards(ctx, poke)
			return
		}
		log.Warn("follow the agent's events", "err", err)
		// The next container event may have been missed.
		poke()
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// followEvents pokes for every event that matters (may change the
// forwards), until the stream ends.
func followEvents(ctx context.Context, res client.EventsResult, matters func(events.Message) bool, poke func()) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-res.Err:
			return err
		case m := <-res.Messages:
			if matters(m) {
				poke()
			}
		}
	}
}

func pollForwards(ctx context.Context, poke func()) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			poke()
		}
	}
}
