package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// createShares turns --share and --no-share into the machine's shares for
// driver drv. Without either, a driver that can share gets the user's home
// folder; when that cannot be shared, note says why.
func createShares(opts createOptions, drv drivers.Driver) (shares []drivers.Share, note string, err error) {
	_, can := drv.(drivers.SharedFolders)
	if opts.NoShare && len(opts.Shares) > 0 {
		return nil, "", usagef("--share and --no-share contradict each other; give one")
	}
	if len(opts.Shares) > 0 {
		if !can {
			return nil, "", usagef("the %s driver cannot share folders from this computer; drop --share", drv.DriverName())
		}
		shares, err := parseShares(opts.Shares)
		if err != nil {
			return nil, "", &usageError{err}
		}
		return shares, "", nil
	}
	if opts.NoShare || !can {
		return nil, "", nil
	}
	home, err := os.UserHomeDir()
	if err == nil {
		shares, err = machine.DefaultShares(home)
	}
	if err == nil {
		err = machine.ValidateShares(shares)
	}
	if err != nil {
		return nil, fmt.Sprintf("not sharing your home folder %v", err), nil
	}
	return shares, "", nil
}

// parseShares reads --share values relative to the current folder and
// names every bad one at once.
func parseShares(specs []string) ([]drivers.Share, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("--share: find the current folder: %w", err)
	}
	var errs []error
	var out []drivers.Share
	for _, spec := range specs {
		s, err := machine.ParseShare(spec, cwd)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, s)
	}
	if err := machine.ValidateShares(out); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bad --share: %w", err)
	}
	return out, nil
}
