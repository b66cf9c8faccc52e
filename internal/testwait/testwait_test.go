package testwait

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	errLast := errors.New("last")
	tests := []struct {
		name      string
		okAfter   int // calls until cond returns nil; 0: never
		timeout   time.Duration
		wantErr   error
		wantCalls func(int) bool
	}{
		{"at once", 1, time.Second, nil, func(n int) bool { return n == 1 }},
		{"after a few", 3, 5 * time.Second, nil, func(n int) bool { return n == 3 }},
		{"never", 0, 100 * time.Millisecond, errLast, func(n int) bool { return n >= 2 }},
		{"zero timeout still calls once", 0, 0, errLast, func(n int) bool { return n == 1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			err := Poll(context.Background(), tc.timeout, func() error {
				calls++
				if tc.okAfter > 0 && calls >= tc.okAfter {
					return nil
				}
				return errLast
			})
			if err != tc.wantErr {
				t.Errorf("Poll = %v, want %v", err, tc.wantErr)
			}
			if !tc.wantCalls(calls) {
				t.Errorf("cond called %d times", calls)
			}
		})
	}
}

// fakeTB records a failure instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = strings.TrimSpace(fmt.Sprintf(format, args...))
}

func TestPollEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Poll(ctx, time.Minute, func() error {
		if calls++; calls == 2 {
			cancel()
		}
		return errors.New("not yet")
	})
	if !errors.Is(err, context.Canceled) || err.Error() != "context canceled (last: not yet)" || calls != 2 {
		t.Errorf("Poll with a cancelled ctx = %v after %d calls, want %v with the last error after 2", err, calls, context.Canceled)
	}
}

func TestForSaysWhatItLastSaw(t *testing.T) {
	ft := &fakeTB{TB: t}
	For(ft, 30*time.Millisecond, "the door", func() error { return errors.New("still closed") })
	if want := "waited 30ms for the door: still closed"; ft.failed != want {
		t.Errorf("failure = %q, want %q", ft.failed, want)
	}
	ft = &fakeTB{TB: t}
	Until(ft, 30*time.Millisecond, "the door", func() bool { return true })
	if ft.failed != "" {
		t.Errorf("Until failed on a true condition: %q", ft.failed)
	}
}
