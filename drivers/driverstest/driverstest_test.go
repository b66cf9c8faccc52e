package driverstest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/drivers/driverstest"
	"github.com/berthvm/berth/internal/fakedriver"
)

func TestFakeDriverConforms(t *testing.T) {
	driverstest.Run(t, driverstest.Options{
		New:     func(t testing.TB, b drivers.Base) drivers.Driver { return fakedriver.New(b) },
		Timeout: 10 * time.Second,
	})
}

// broken breaks one MUST of the contract on top of the fake driver.
type broken struct {
	*fakedriver.Driver
	breaks string
}

func (b *broken) Stop(ctx context.Context) error {
	if b.breaks == "stop" {
		if st, _ := b.State(ctx); st == drivers.StateStopped {
			return errors.New("already stopped")
		}
	}
	return b.Driver.Stop(ctx)
}

func (b *broken) Remove(ctx context.Context) error {
	if b.breaks == "remove" {
		if _, err := b.State(ctx); err != nil {
			return err
		}
	}
	return b.Driver.Remove(ctx)
}

func (b *broken) Capabilities() drivers.Capabilities {
	c := b.Driver.Capabilities()
	if b.breaks == "caps" {
		c.PortForwarding = true
	}
	return c
}

// TestSuiteCatchesBrokenDrivers runs the suite against drivers that break
// the contract, each in a child process, and wants it to fail naming what
// broke.
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	for breaks, want := range map[string]string{
		"stop":   "Stop of a stopped machine: already stopped",
		"remove": "Remove before Create",
		"caps":   "Capabilities().PortForwarding = true",
	} {
		t.Run(breaks, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenDriverChild$", "-test.v")
			cmd.Env = append(os.Environ(), "DRIVERSTEST_BREAK="+breaks)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a driver that breaks %q:\n%s", breaks, out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite's output lacks %q:\n%s", want, out)
			}
		})
	}
}

// TestBrokenDriverChild is TestSuiteCatchesBrokenDrivers's child; it does
// nothing unless DRIVERSTEST_BREAK is set.
func TestBrokenDriverChild(t *testing.T) {
	breaks := os.Getenv("DRIVERSTEST_BREAK")
	if breaks == "" {
		return
	}
	driverstest.Run(t, driverstest.Options{
		New: func(t testing.TB, b drivers.Base) drivers.Driver {
			return &broken{Driver: fakedriver.New(b), breaks: breaks}
		},
		Timeout: 10 * time.Second,
	})
}
