package container

// Event is something that happened to a container, for the agent's event
// stream. Action is Docker's name for it.
type Event struct {
	Action string
	Spec   Spec
	// Attributes are the action's own: exitCode and execDuration for
	// die, signal for kill.
	Attributes map[string]string
}

// Event actions, as Docker names them.
const (
	ActionCreate  = "create"
	ActionStart   = "start"
	ActionAttach  = "attach"
	ActionKill    = "kill"
	ActionOOM     = "oom"
	ActionDie     = "die"
	ActionStop    = "stop"
	ActionRestart = "restart"
	ActionDestroy = "destroy"
)
