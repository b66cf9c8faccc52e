package envup

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Lines prints one line per event, for a pipe or a log.
func Lines(w io.Writer) func(Event) {
	start := time.Now()
	return func(e Event) {
		if e.Status == "progress" { // pull progress: the table shows it, lines would flood
			return
		}
		who := e.Machine
		if e.Service != "" {
			who += "/" + e.Service
		}
		line := fmt.Sprintf("(%s) %6.1fs %s", who, time.Since(start).Seconds(), e.Step)
		switch {
		case e.Status == "failed":
			line += ": FAILED: " + e.Error
		case e.Status == "done" && e.DurationMS > 0:
			line += fmt.Sprintf(": done in %.1fs", float64(e.DurationMS)/1000)
		case e.Status != "started":
			line += ": " + e.Status
		}
		fmt.Fprintln(w, line)
	}
}

// JSON prints each event as one JSON object per line.
func JSON(w io.Writer) func(Event) {
	enc := json.NewEncoder(w)
	return func(e Event) { enc.Encode(e) }
}

// Table keeps a live table on a terminal: a row per machine and service
// with its latest step, redrawn in place at each event.
func Table(w io.Writer) func(Event) {
	t := &table{w: w, rows: map[string]*row{}, start: time.Now()}
	return t.event
}

type row struct {
	machine, service, step, status string
	since                          time.Time
}

type table struct {
	mu    sync.Mutex
	w     io.Writer
	rows  map[string]*row
	drawn int
	start time.Time
}

func (t *table) event(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	key := e.Machine + "/" + e.Service
	r := t.rows[key]
	if r == nil {
		r = &row{machine: e.Machine, service: e.Service}
		t.rows[key] = r
	}
	r.step, r.status, r.since = e.Step, e.Status, time.Now()
	if e.Status == "failed" {
		r.status = "FAILED: " + firstLine(e.Error)
	}
	t.draw()
}

func (t *table) draw() {
	keys := make([]string, 0, len(t.rows))
	for k := range t.rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	if t.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.drawn)
	}
	fmt.Fprintf(&b, "\x1b[2K%-12s %-16s %-30s %s\n", "MACHINE", "SERVICE", "STEP", fmt.Sprintf("STATUS (%.0fs)", time.Since(t.start).Seconds()))
	for _, k := range keys {
		r := t.rows[k]
		fmt.Fprintf(&b, "\x1b[2K%-12s %-16s %-30s %s\n", r.machine, r.service, r.step, r.status)
	}
	t.drawn = len(keys) + 1
	io.WriteString(t.w, b.String())
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// PrintReport writes how each machine and service ended.
func (r Report) Print(w io.Writer) {
	for _, m := range r.Machines {
		state := "ok"
		if m.Error != "" {
			state = "FAILED: " + m.Error
		}
		did := ""
		if len(m.Did) > 0 {
			did = " (" + strings.Join(m.Did, ", ") + ")"
		}
		fmt.Fprintf(w, "machine %s [%s]%s: %s\n", m.Name, m.FullName, did, state)
		for _, s := range m.Services {
			st := s.State
			if s.Err != nil {
				st += ": " + s.Err.Error()
			}
			fmt.Fprintf(w, "  service %s: %s\n", s.Name, st)
		}
	}
}
