package container

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
	"github.com/berthvm/berth/runtime/network"
)

// Status is where a container is in its life.
type Status string

// Container statuses, as Docker names them.
const (
	StatusCreated    Status = "created"
	StatusRunning    Status = "running"
	StatusRestarting Status = "restarting"
	StatusPaused     Status = "paused"
	StatusExited     Status = "exited"
	StatusRemoving   Status = "removing"
	StatusDead       Status = "dead"
)

// State is a container's run state, kept in its folder (state.json) by the
// agent and the container's monitor.
type State struct {
	Status       Status    `json:"Status"`
	Pid          int       `json:"Pid"`
	MonitorPid   int       `json:"MonitorPid"`
	ExitCode     int       `json:"ExitCode"`
	OOMKilled    bool      `json:"OOMKilled"`
	Error        string    `json:"Error,omitempty"`
	StartedAt    time.Time `json:"StartedAt"`
	FinishedAt   time.Time `json:"FinishedAt"`
	RestartCount int       `json:"RestartCount"`
	// ManualStop is set by stop: the restart policy does not apply.
	ManualStop bool `json:"ManualStop,omitempty"`
	// Network is the bridge address of the current run.
	Network *network.Attachment `json:"Network,omitempty"`
	// Networks are the attachments the monitor made at start, Network
	// first.
	Networks []network.Attachment `json:"Networks,omitempty"`
}

// Running reports whether the container's process is alive (or about to be
// restarted by its monitor).
func (s State) Running() bool {
	return s.Status == StatusRunning || s.Status == StatusRestarting || s.Status == StatusPaused
}

// Files in a container's folder.
const (
	specFile  = "config.json"
	stateFile = "state.json"
	logFile   = "container.log"
	ctlSocket = "ctl.sock"
	monLog    = "monitor.log"
)

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	return nil
}

// writeJSON replaces path atomically (temp file + rename, no fsync: a
// reboot ends every container anyway).
func writeJSON(path string, v any) error { return atomicfile.WriteJSON(path, v) }
