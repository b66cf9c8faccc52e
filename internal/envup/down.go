package envup

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/berthvm/berth/internal/teamenv"
)

// DownOptions say what `berth down` does.
type DownOptions struct {
	Machines []string // short names; empty: all
	Volumes  bool     // also remove the project's volumes
	Destroy  bool     // remove the machines
	Progress func(Event)
}

// Down removes the environment's services and stops its machines (in
// the reverse of dependency order), or removes them with Destroy. It
// goes on past a failure and returns every failure.
func Down(ctx context.Context, env *teamenv.Env, ms Machines, svc Services, opts DownOptions) error {
	names := env.Names()
	if len(opts.Machines) > 0 {
		for _, n := range opts.Machines {
			if _, ok := env.Machines[n]; !ok {
				return fmt.Errorf("%s has no machine %q", env.File, n)
			}
		}
		names = slices.DeleteFunc(names, func(n string) bool { return !slices.Contains(opts.Machines, n) })
	}
	slices.Reverse(names)
	rep := &reporter{fn: opts.Progress}
	var errs []error
	for _, n := range names {
		m := env.Machines[n]
		have, err := ms.load(m.FullName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if have == nil {
			continue
		}
		if have.Labels[teamenv.LabelEnv] != env.Name {
			errs = append(errs, fmt.Errorf("machine %s is not part of environment %s: left alone", m.FullName, env.Name))
			continue
		}
		if opts.Destroy {
			end := rep.step(n, "removing the machine")
			if err := end(ms.Remove(ctx, have)); err != nil {
				errs = append(errs, fmt.Errorf("machine %s: %w", n, err))
			}
			continue
		}
		up := running(ctx, have)
		if !up && opts.Volumes {
			// The volumes live in the machine: it has to run for them to
			// go, and --volumes never leaves them silently.
			end := rep.step(n, "starting it to remove its volumes")
			if err := end(ms.Start(ctx, have)); err != nil {
				errs = append(errs, fmt.Errorf("machine %s: its volumes are kept: %w", n, err))
				continue
			}
			up = true
		}
		if up {
			end := rep.step(n, "removing the services")
			err := func() error {
				a, closeAPI, err := api(ctx, have)
				if err != nil {
					return err
				}
				defer closeAPI()
				return svc.Down(ctx, a, env.Name, opts.Volumes)
			}()
			if end(err) != nil {
				errs = append(errs, fmt.Errorf("machine %s: %w", n, err))
				continue
			}
		}
		end := rep.step(n, "stopping")
		if err := end(ms.Stop(ctx, have)); err != nil {
			errs = append(errs, fmt.Errorf("machine %s: %w", n, err))
		}
	}
	return errors.Join(errs...)
}
