package hostagent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

// The states of a host agent.
const (
	StateConnecting = "connecting" // dialling the machine (first time or after a drop)
	StateReady      = "ready"      // connected; the agent answered
)

// Status is what a host agent says of itself and of the machine's agent,
// in StatusFile. `berth ls` reads it instead of asking the machine.
type Status struct {
	Pid      int
	Endpoint string
	State    string
	// Agent is the machine agent's version when ready, else a few words
	// on why it does not answer ("not installed", "ssh error").
	Agent   string `json:",omitempty"`
	Error   string `json:",omitempty"`
	Updated time.Time
}

// ErrNotRunning marks a machine folder without a live host agent.
var ErrNotRunning = errors.New("no host agent running")

// ReadStatus reads the status of the host agent of the machine in dir.
// It fails with ErrNotRunning when no host agent holds the machine's
// lock, whatever the status file says (a killed host agent leaves it).
func ReadStatus(dir string) (Status, error) {
	var st Status
	if !Running(dir) {
		return st, ErrNotRunning
	}
	b, err := os.ReadFile(filepath.Join(dir, StatusFile))
	if errors.Is(err, fs.ErrNotExist) {
		return st, ErrNotRunning
	}
	if err != nil {
		return st, fmt.Errorf("host agent status: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("host agent status %s: %w", filepath.Join(dir, StatusFile), err)
	}
	return st, nil
}

func writeStatus(dir string, st Status) error {
	st.Updated = time.Now().UTC()
	return atomicfile.WriteJSON(filepath.Join(dir, StatusFile), st)
}
