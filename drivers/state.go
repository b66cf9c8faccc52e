package drivers

// State is a machine's state as its driver sees it.
type State int

// The states. Their String forms are what `berth status` and `ls` print.
const (
	StateNone State = iota // unknown
	StateRunning
	StatePaused
	StateSaved
	StateStopped
	StateStopping
	StateStarting
	StateError
	StateTimeout // the driver did not answer in time (ls only)
)

var stateNames = [...]string{"", "Running", "Paused", "Saved", "Stopped", "Stopping", "Starting", "Error", "Timeout"}

func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "Unknown"
	}
	return stateNames[s]
}

// MarshalText makes a State print as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
