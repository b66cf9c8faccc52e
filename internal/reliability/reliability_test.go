package reliability

import (
	"testing"
	"time"
)

// TestRecordWritesRowsReadBack: a passing test's row is written where
// DirEnv says, under its test's name, and Read returns it.
func TestRecordWritesRowsReadBack(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	t.Run("inner", func(t *testing.T) {
		Record(t, time.Now(), Row{Area: "soak", What: "cycles", Runs: 3, Lost: 0})
	})
	rows, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Test != t.Name()+"/inner" || rows[0].Runs != 3 || rows[0].Area != "soak" {
		t.Errorf("rows = %+v, want the one recorded", rows)
	}
}
