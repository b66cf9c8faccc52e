package forwards

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/berthvm/berth/drivers"
)

// Add adds fwds to pf, or none of them: on a failure it removes those it
// added. Each forward must then listen on its host port. A nil pf (a
// machine that needs no host forwards) adds nothing.
func Add(ctx context.Context, pf drivers.PortForwarder, fwds []drivers.Forward) error {
	if pf == nil {
		return nil
	}
	for i, f := range fwds {
		err := pf.AddForward(ctx, f)
		if err == nil {
			err = listening(ctx, f)
		}
		if err != nil {
			Remove(ctx, pf, fwds[:i+1])
			return fmt.Errorf("forward host port %s:%d to the machine: %w", f.HostIP, f.HostPort, err)
		}
	}
	return nil
}

// How long, and how often, listening checks the host port.
const (
	listenWait = 3 * time.Second
	listenPoll = 50 * time.Millisecond
)

// listening waits a little for the hypervisor to listen on f's host port
// after AddForward: VirtualBox accepts a rule whose port it then fails to
// listen on, and only says so in VBox.log.
func listening(ctx context.Context, f drivers.Forward) error {
	ctx, cancel := context.WithTimeout(ctx, listenWait)
	defer cancel()
	tick := time.NewTicker(listenPoll)
	defer tick.Stop()
	for portFree(f) == nil {
		select {
		case <-ctx.Done():
			return errors.New("the forward was added but nothing listens on the host port (see the hypervisor's log)")
		case <-tick.C:
		}
	}
	return nil
}

// Remove removes fwds from pf, reporting every failure. It removes them
// even when ctx is cancelled: a forward left behind holds a host port.
func Remove(ctx context.Context, pf drivers.PortForwarder, fwds []drivers.Forward) error {
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
