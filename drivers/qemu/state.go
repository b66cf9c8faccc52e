package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/berthvm/berth/drivers"
)

// readPID returns the pid in the machine's pidfile, or 0 when there is
// none.
func (d *Driver) readPID() int {
	b, err := os.ReadFile(d.path(PIDFile))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// runningPID returns the pid of the machine's QEMU process while it runs,
// or 0.
func (d *Driver) runningPID() int {
	pid := d.readPID()
	if pid == 0 || !processIsOurs(pid, d.path(PIDFile)) {
		return 0
	}
	return pid
}

// State reads the machine's state: Stopped when no QEMU process of the
// machine runs (also when it was killed from outside), otherwise what
// QEMU's query-status says.
func (d *Driver) State(ctx context.Context) (drivers.State, error) {
	pid := d.runningPID()
	if pid == 0 {
		return drivers.StateStopped, nil
	}
	q, err := dialQMP(ctx, d.path(QMPFile))
	if err != nil {
		if d.runningPID() == 0 { // it exited meanwhile
			return drivers.StateStopped, nil
		}
		return drivers.StateError, fmt.Errorf("qemu process %d of machine %q does not answer on %s: %w (`berth kill %s` stops it)", pid, d.base.MachineName, QMPFile, err, d.base.MachineName)
	}
	defer q.Close()
	status, err := q.status()
	if err != nil {
		return drivers.StateError, fmt.Errorf("query status of qemu process %d: %w", pid, err)
	}
	return stateOf(status)
}

// stateOf maps a QMP run state to a machine state.
func stateOf(status string) (drivers.State, error) {
	switch status {
	case "running":
		return drivers.StateRunning, nil
	case "paused", "suspended", "debug", "watchdog":
		return drivers.StatePaused, nil
	case "shutdown":
		return drivers.StateStopping, nil
	case "prelaunch", "inmigrate", "restore-vm", "postmigrate", "finish-migrate", "save-vm", "colo":
		return drivers.StateStarting, nil
	case "internal-error", "io-error", "guest-panicked":
		return drivers.StateError, fmt.Errorf("the VM halted with %s (its console is in %s)", status, ConsoleFile)
	}
	return drivers.StateError, errors.New("unknown qemu run state " + strconv.Quote(status))
}
