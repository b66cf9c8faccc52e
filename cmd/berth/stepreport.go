package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/berthvm/berth/internal/machine"
)

// stepEvent is one line of `create --json` and `start --json`: a step
// that began or ended, or the machine being ready.
type stepEvent struct {
	Machine string `json:"machine"`
	// Event is "begin", "end" or "ready".
	Event string `json:"event"`
	Step  string `json:"step,omitempty"`
	// AtMS is the time since the command began, in milliseconds.
	AtMS int64 `json:"at_ms"`
	// TookMS is how long the step took ("end" events).
	TookMS *int64 `json:"took_ms,omitempty"`
}

// stepReport shows the steps of create and start with their durations:
// lines for people ("(dev)   2.1s waiting for SSH: 1.8s"), or JSON
// events (stepEvent) one a line, or nothing.
type stepReport struct {
	w       io.Writer // nil: report nothing
	json    bool
	machine string
	began   time.Time
	mu      sync.Mutex
}

func newStepReport(w io.Writer, asJSON bool, name string) *stepReport {
	return &stepReport{w: w, json: asJSON, machine: name, began: time.Now()}
}

// hook sets steps' Progress and Done to report to r.
func (r *stepReport) hook(steps machine.Steps) machine.Steps {
	if r.w == nil {
		return steps
	}
	steps.Progress = r.begin
	steps.Done = r.end
	return steps
}

func (r *stepReport) since() time.Duration { return time.Since(r.began) }

func (r *stepReport) begin(step string) {
	r.emit(stepEvent{Event: "begin", Step: step}, fmt.Sprintf("%s...", step))
	if stepBegins != nil {
		stepBegins(step)
	}
}

// stepBegins, when set, is told each reported step of create and start
// as it begins, before the step runs. Tests set it to kill berth there.
var stepBegins func(step string)

func (r *stepReport) end(step string, took time.Duration) {
	ms := took.Milliseconds()
	r.emit(stepEvent{Event: "end", Step: step, TookMS: &ms}, fmt.Sprintf("%s: %.2fs", step, took.Seconds()))
}

// ready reports that the machine is ready; people get what the command
// prints itself.
func (r *stepReport) ready() {
	if r.json {
		r.emit(stepEvent{Event: "ready"}, "")
	}
}

func (r *stepReport) emit(e stepEvent, text string) {
	if r.w == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.since()
	if r.json {
		e.Machine, e.AtMS = r.machine, at.Milliseconds()
		b, _ := json.Marshal(e)
		fmt.Fprintf(r.w, "%s\n", b)
		return
	}
	fmt.Fprintf(r.w, "(%s) %6.1fs %s\n", r.machine, at.Seconds(), text)
}
