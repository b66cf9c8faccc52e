// Package testwait lets a test wait for a condition to hold, polling it
// until a deadline, instead of a hand-written deadline loop or a fixed sleep.
package testwait

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"
)

// maxInterval is the longest pause between two checks: checks start 10 ms
// apart and slow down to it.
const maxInterval = 500 * time.Millisecond

// Poll calls cond until it returns nil, pausing a little longer between
// calls each time, and returns nil then. After timeout it returns cond's
// last error; when ctx ends first, ctx's error with cond's last one. cond
// runs at least once.
func Poll(ctx context.Context, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	interval := 10 * time.Millisecond
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return err
		}
		t := time.NewTimer(min(interval, time.Until(deadline)))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		}
		interval = min(2*interval, maxInterval)
	}
}

// For waits until cond returns nil and fails t when it still returns an
// error after timeout, saying what it waited for and what cond last said.
// It must be called from the test's goroutine; cond may call t.Fatal.
func For(t testing.TB, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	if err := Poll(context.Background(), timeout, cond); err != nil {
		t.Fatalf("waited %s for %s: %v", timeout, what, err)
	}
}

// Until waits until cond returns true and fails t when it does not within
// timeout. For says more on failure: prefer it when there is something to
// show.
func Until(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	For(t, timeout, what, func() error {
		if !cond() {
			return errNotYet
		}
		return nil
	})
}

var errNotYet = errors.New("the condition did not hold")

// Dial waits until addr accepts connections on network (as net.Dial
// takes them) and fails t with the last dial error when it does not
// within timeout.
func Dial(t testing.TB, timeout time.Duration, network, addr string) {
	t.Helper()
	For(t, timeout, network+" "+addr+" to accept connections", func() error {
		c, err := net.Dial(network, addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}
