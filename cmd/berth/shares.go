package main

import (
	"os"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
)

// createShares turns --share and --no-share into the machine's shares for
// driver drv (see machine.ResolveShares); its errors are usage errors.
func createShares(opts createOptions, drv drivers.Driver) (shares []drivers.Share, note string, err error) {
	shares, note, err = machine.ResolveShares(drv, machine.ShareRequest{
		Specs: opts.Shares, NoShare: opts.NoShare, Cwd: os.Getwd, Home: os.UserHomeDir,
	})
	if err != nil {
		return nil, "", &usageError{err}
	}
	return shares, note, nil
}
