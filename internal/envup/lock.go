package envup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/teamenv"
)

// LockOptions say how `berth lock` resolves what it pins.
type LockOptions struct {
	// ISO is the berth-os ISO the environment's machines boot.
	ISO          string
	AgentVersion string
}

// MakeLock resolves the environment's berth-os ISO, agent and every
// service's image (for each of teamenv.Arches) into a Lock.
func MakeLock(ctx context.Context, env *teamenv.Env, svc Services, opts LockOptions) (*teamenv.Lock, error) {
	l := &teamenv.Lock{Version: teamenv.LockVersion, Agent: teamenv.LockedApp{Version: opts.AgentVersion}}
	sum, err := isocache.SHA256File(opts.ISO)
	if err != nil {
		return nil, fmt.Errorf("berth-os ISO: %w", err)
	}
	vol, err := isocache.VolumeID(opts.ISO)
	if err != nil {
		return nil, fmt.Errorf("berth-os ISO %s: %w", filepath.Base(opts.ISO), err)
	}
	l.BerthOS = teamenv.LockedOS{Version: vol, SHA256: sum}
	var errs []error
	resolved := map[string]teamenv.Image{} // each image is asked once
	for _, n := range env.Names() {
		m := env.Machines[n]
		p, err := LoadProject(ctx, env, svc, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var services []string
		for s := range p.Services {
			services = append(services, s)
		}
		sort.Strings(services)
		for _, s := range services {
			ref := p.Services[s].Image
			if ref == "" {
				errs = append(errs, fmt.Errorf("machine %s: service %s has no image (berth lock pins images; build: is not supported here)", n, s))
				continue
			}
			im, ok := resolved[ref]
			if !ok {
				im, err = teamenv.Resolve(ctx, ref, m.InsecureRegistries)
				if err != nil {
					errs = append(errs, fmt.Errorf("machine %s: service %s: %w", n, s, err))
					continue
				}
				resolved[ref] = im
			}
			platforms := map[string]string{}
			for k, v := range im.Platforms {
				platforms[k] = v
			}
			im.Platforms = platforms
			im.Machine, im.Service = n, s
			l.Images = append(l.Images, im)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return l, nil
}
