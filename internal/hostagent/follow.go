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
// agent c reaches, until ctx ends: once at once, then after every
// container event. Nothing runs between events.
func followContainers(ctx context.Context, c *agentclient.Client, pf drivers.PortForwarder, log *slog.Logger) {
	if pf == nil {
		return // the machine publishes on its own addresses
	}
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
				if err := syncForwards(ctx, c, pf); err != nil && ctx.Err() == nil {
					log.Warn("sync the host forwards", "err", err)
				}
			}
		}
	}()
	poke()
	for ctx.Err() == nil {
		res := c.Events(ctx, client.EventsListOptions{Filters: client.Filters{}.Add("type", string(events.ContainerEventType))})
		err := followEvents(ctx, res, poke)
		if ctx.Err() != nil {
			return
		}
		if errdefs.IsNotFound(err) || errdefs.IsNotImplemented(err) {
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

// followEvents pokes for every event that may change the forwards, until
// the stream ends.
func followEvents(ctx context.Context, res client.EventsResult, poke func()) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-res.Err:
			return err
		case m := <-res.Messages:
			if forwardActions[m.Action] {
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
