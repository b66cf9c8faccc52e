package envup

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/berthvm/berth/internal/isocache"
	"github.com/berthvm/berth/internal/teamenv"
)

// ErrFrozen marks an up --frozen that cannot use exactly what berth.lock
// pins.
var ErrFrozen = errors.New("--frozen: this computer differs from " + teamenv.LockName)

// freeze checks the guest OS, agent and images against berth.lock and
// pins every service's image to its locked digest for opts.Arch, naming
// every difference.
func freeze(ctx context.Context, env *teamenv.Env, pre *prepared, names []string, opts UpOptions) error {
	lock, err := env.ReadLock()
	if err != nil {
		return err
	}
	var diffs []string
	if opts.AgentVersion != lock.Agent.Version {
		diffs = append(diffs, fmt.Sprintf("agent: this berth installs %s, the lock has %s", opts.AgentVersion, lock.Agent.Version))
	}
	for _, n := range names {
		m := env.Machines[n]
		iso := ""
		if have := pre.have[n]; have != nil {
			iso = filepath.Join(have.Dir, "boot.iso")
		} else if opts.ISOFor != nil {
			if iso, err = opts.ISOFor(ctx, m); err != nil {
				diffs = append(diffs, fmt.Sprintf("machine %s: berth-os ISO: %v", n, err))
				iso = ""
			}
		}
		if iso != "" {
			sum, err := isocache.SHA256File(iso)
			switch {
			case err != nil:
				diffs = append(diffs, fmt.Sprintf("machine %s: berth-os ISO: %v", n, err))
			case sum != lock.BerthOS.SHA256:
				diffs = append(diffs, fmt.Sprintf("machine %s: berth-os ISO %s has SHA-256 %s, the lock has %s (%s)", n, iso, sum, lock.BerthOS.SHA256, lock.BerthOS.Version))
			}
		}
		p := pre.projects[n]
		for name, s := range p.Services {
			li := lockedImage(lock, n, name)
			switch {
			case li == nil:
				diffs = append(diffs, fmt.Sprintf("machine %s: service %s is not in the lock (run berth lock)", n, name))
				continue
			case li.Image != s.Image:
				diffs = append(diffs, fmt.Sprintf("machine %s: service %s: image %s, the lock has %s (run berth lock)", n, name, s.Image, li.Image))
				continue
			}
			pinned, ok := li.Pinned(opts.Arch)
			if !ok {
				diffs = append(diffs, fmt.Sprintf("machine %s: service %s: the lock has no %s digest of %s", n, name, opts.Arch, li.Image))
				continue
			}
			s.Image = pinned
			p.Services[name] = s
		}
	}
	if len(diffs) > 0 {
		msg := ""
		for _, d := range diffs {
			msg += "\n  " + d
		}
		return fmt.Errorf("%w:%s", ErrFrozen, msg)
	}
	return nil
}

func lockedImage(l *teamenv.Lock, machine, service string) *teamenv.Image {
	for i := range l.Images {
		if l.Images[i].Machine == machine && l.Images[i].Service == service {
			return &l.Images[i]
		}
	}
	return nil
}
