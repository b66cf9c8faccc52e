package container

import (
	"errors"
	"os"
)

// Hidden subcommands of the agent binary that the runtime re-executes.
const (
	initCommand    = "container-init"
	monitorCommand = "container-monitor"
	execCommand    = "container-exec"
)

// runsHidden is set by RunHidden: the program re-executes itself as
// monitors and inits only when its main hands those command lines to the
// runtime (a program that did not would run its own main again instead).
var runsHidden bool

// errNoHidden is a program that cannot run containers.
var errNoHidden = errors.New("this program cannot run containers: its main must call container.RunHidden first")

// RunHidden runs the runtime's hidden subcommand named by args[1] (the
// container init, monitor or exec helper) and does not return when it is
// one; it returns false for any other command line. Call it first in main.
func RunHidden(args []string) bool {
	runsHidden = true
	if len(args) < 2 {
		return false
	}
	switch args[1] {
	case initCommand:
		runInit()
	case monitorCommand:
		os.Exit(runMonitor(args[2:]))
	case execCommand:
		runExecHelper()
	}
	return false
}
