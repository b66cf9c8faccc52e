// Package reliability records the rows of berth's reliability table: what
// a test ran, how many times, the faults it injected, how many it
// survived and how much data it lost. Tests call Record; `make
// reliability` collects the rows into RELIABILITY.md.
package reliability

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/internal/atomicfile"
)

// DirEnv names the folder rows are written to; without it Record does
// nothing.
const DirEnv = "BERTH_RELIABILITY_DIR"

// Row is one line of the table.
type Row struct {
	// Area groups the rows: soak, concurrency, fault, fuzz, security.
	Area string `json:"area"`
	// What ran, in a few words.
	What string `json:"what"`
	// Runs is how many times it ran (cycles, requests, fuzz inputs).
	Runs int64 `json:"runs"`
	// Faults is how many faults were injected; Survived how many of them
	// left everything consistent.
	Faults   int64 `json:"faults"`
	Survived int64 `json:"survived"`
	// Lost is how many items of data (files, images, containers,
	// volumes) were lost or damaged.
	Lost int64 `json:"lost"`
	// Notes are what was checked, briefly.
	Notes string `json:"notes,omitempty"`
	// Test is the Go test that made the row, and Seconds how long it took.
	Test    string  `json:"test"`
	Seconds float64 `json:"seconds"`
}

// Record writes r for test t to the folder DirEnv names (one file per
// test and row), when the test passed. started is when the test began.
func Record(t testing.TB, started time.Time, r Row) {
	t.Helper()
	dir := os.Getenv(DirEnv)
	if dir == "" {
		return
	}
	r.Test = t.Name()
	r.Seconds = time.Since(started).Round(100 * time.Millisecond).Seconds()
	t.Cleanup(func() {
		if t.Failed() {
			r.Notes = strings.TrimSpace(r.Notes + " FAILED")
		}
		if err := Write(dir, r); err != nil {
			t.Errorf("record reliability row: %v", err)
		}
	})
}

// Write stores r in dir.
func Write(dir string, r Row) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	name := strings.NewReplacer("/", "_", " ", "_").Replace(r.Test+"-"+r.What) + ".json"
	return atomicfile.Write(filepath.Join(dir, name), b)
}

// Read returns the rows stored in dir, in file name order.
func Read(dir string) ([]Row, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var r Row
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}
