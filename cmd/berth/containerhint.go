package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/internal/hostagent"
	"github.com/berthvm/berth/internal/machine"
)

// containerHint adds to err, when it says that some of names are no
// machine, which of them are containers on the active machine, with the
// `berth container VERB NAME` the user probably meant. It asks only a
// running host agent, briefly, and leaves err as it is otherwise.
func (d *deps) containerHint(ctx context.Context, verb string, names []string, err error) error {
	if !errors.Is(err, machine.ErrNotFound) {
		return err
	}
	active, aerr := d.targetMachine("")
	if aerr != nil {
		return err
	}
	m, lerr := d.store.Load(active)
	if lerr != nil {
		return err
	}
	st, serr := hostagent.ReadStatus(m.Dir)
	if serr != nil {
		return err
	}
	api, cerr := client.New(client.WithHost(st.Endpoint))
	if cerr != nil {
		return err
	}
	defer api.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for _, n := range names {
		if d.store.Exists(n) {
			continue
		}
		if _, ierr := api.ContainerInspect(ctx, n, client.ContainerInspectOptions{}); ierr == nil {
			err = fmt.Errorf("%w\n%s is a container on machine %q: you probably meant `berth container %s %s`", err, n, active, verb, n)
		}
	}
	return err
}
