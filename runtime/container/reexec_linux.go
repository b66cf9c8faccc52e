package container

import "os"

// Hidden subcommands of the agent binary that the runtime re-executes.
const (
	initCommand    = "container-init"
	monitorCommand = "container-monitor"
	execCommand    = "container-exec"
)

// RunHidden runs the runtime's hidden subcommand named by args[1] (the
// container init, monitor or exec helper) and does not return when it is
// one; it returns false for any other command line. Call it first in main.
func RunHidden(args []string) bool {
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
