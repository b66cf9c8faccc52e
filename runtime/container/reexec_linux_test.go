package container

import (
	"errors"
	"testing"
)

// TestNoReexecWithoutRunHidden: a program whose main does not hand the
// hidden command lines to RunHidden gets an error instead of starting
// copies of itself as monitors (which would run its own main again).
func TestNoReexecWithoutRunHidden(t *testing.T) {
	runsHidden = false
	defer func() { runsHidden = true }()
	if _, err := startSpare(); !errors.Is(err, errNoHidden) {
		t.Fatalf("startSpare without RunHidden: %v, want %v", err, errNoHidden)
	}
	if _, err := cloneInit(initFlags); !errors.Is(err, errNoHidden) {
		t.Fatalf("cloneInit without RunHidden: %v, want %v", err, errNoHidden)
	}
}
