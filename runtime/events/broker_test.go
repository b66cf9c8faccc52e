package events

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/moby/moby/api/types/events"
)

func msg(action string, id string) events.Message {
	return events.Message{Type: events.ContainerEventType, Action: events.Action(action), Actor: events.Actor{ID: id, Attributes: map[string]string{"name": id}}}
}

// drain reads s until it is closed and returns the actions read.
func drain(t *testing.T, s *Subscription) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-s.Events():
			if !ok {
				return got
			}
			got = append(got, string(m.Action))
		case <-timeout:
			t.Fatalf("subscription not closed; read %v", got)
		}
	}
}

// next reads one event from s.
func next(t *testing.T, s *Subscription) events.Message {
	t.Helper()
	select {
	case m, ok := <-s.Events():
		if !ok {
			t.Fatalf("subscription closed, err %v", s.Err())
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return events.Message{}
}

func TestEventPublishStamps(t *testing.T) {
	b := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := b.Subscribe(ctx, time.Time{}, time.Time{}, nil)
	before := time.Now()
	b.Publish(msg("create", "a"))
	m := next(t, s)
	if m.Scope != "local" {
		t.Errorf("scope = %q, want local", m.Scope)
	}
	if m.TimeNano < before.UnixNano() || m.Time != m.TimeNano/1e9 {
		t.Errorf("time %d / timeNano %d, want from %d on and matching", m.Time, m.TimeNano, before.UnixNano())
	}
	given := msg("start", "a")
	given.Time, given.TimeNano = 5, 5_000_000_001
	b.Publish(given)
	if m := next(t, s); m.TimeNano != 5_000_000_001 || m.Time != 5 {
		t.Errorf("a given time was changed: %d %d", m.Time, m.TimeNano)
	}
}

func TestEventReplay(t *testing.T) {
	b := New(Options{Keep: 4})
	at := func(action string, sec int64) events.Message {
		m := msg(action, "c")
		m.Time, m.TimeNano = sec, sec*1e9
		return m
	}
	for i, a := range []string{"create", "start", "die", "start", "kill", "die"} {
		b.Publish(at(a, int64(100+i)))
	}
	tests := []struct {
		name         string
		since, until time.Time
		filter       Filter
		want         []string
	}{
		{"kept only", time.Unix(1, 0), time.Unix(1000, 0), nil, []string{"die", "start", "kill", "die"}},
		{"since included", time.Unix(104, 0), time.Unix(1000, 0), nil, []string{"kill", "die"}},
		{"until included", time.Unix(1, 0), time.Unix(103, 0), nil, []string{"die", "start"}},
		{"until only", time.Time{}, time.Unix(103, 0), nil, []string{"die", "start"}},
		{"filtered", time.Unix(1, 0), time.Unix(1000, 0), Filter{"event": {"die"}}, []string{"die", "die"}},
		{"nothing in range", time.Unix(200, 0), time.Unix(300, 0), nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := b.Subscribe(context.Background(), tc.since, tc.until, tc.filter)
			if got := drain(t, s); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if s.Err() != nil {
				t.Errorf("err = %v, want nil", s.Err())
			}
		})
	}
	if n := b.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left after past-only subscriptions", n)
	}
}

// TestEventSinceThenLive: the replay and the live events join with
// nothing missed or repeated; without since nothing is replayed.
func TestEventSinceThenLive(t *testing.T) {
	b := New(Options{})
	b.Publish(msg("create", "a"))
	ctx, cancel := context.WithCancel(context.Background())
	withSince := b.Subscribe(ctx, time.Unix(1, 0), time.Time{}, nil)
	live := b.Subscribe(ctx, time.Time{}, time.Time{}, nil)
	b.Publish(msg("start", "a"))
	cancel()
	if got, want := fmt.Sprint(drain(t, withSince)), "[create start]"; got != want {
		t.Errorf("with since: got %v, want %v", got, want)
	}
	if got, want := fmt.Sprint(drain(t, live)), "[start]"; got != want {
		t.Errorf("live: got %v, want %v", got, want)
	}
	if withSince.Err() != nil || live.Err() != nil {
		t.Errorf("errs %v %v after cancel, want nil", withSince.Err(), live.Err())
	}
	if n := b.Subscribers(); n != 0 {
		t.Errorf("%d subscribers left after cancel", n)
	}
}

func TestEventUntilInFuture(t *testing.T) {
	b := New(Options{})
	s := b.Subscribe(context.Background(), time.Time{}, time.Now().Add(200*time.Millisecond), Filter{"type": {"container"}})
	b.Publish(msg("start", "a"))
	b.Publish(events.Message{Type: events.ImageEventType, Action: events.ActionPull})
	if got, want := fmt.Sprint(drain(t, s)), "[start]"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
	late := msg("die", "a")
	late.TimeNano = time.Now().Add(2 * time.Hour).UnixNano()
	s = b.Subscribe(context.Background(), time.Now(), time.Now().Add(time.Hour), nil)
	b.Publish(late)
	select {
	case m := <-s.Events():
		t.Errorf("got %v stamped after until", m.Action)
	default:
	}
}

// TestEventSlowSubscriberDropped: a subscriber that does not read is dropped
// (ErrSlow) while publishing goes on and others get every event.
func TestEventSlowSubscriberDropped(t *testing.T) {
	b := New(Options{Buffer: 2})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	slow := b.Subscribe(ctx, time.Time{}, time.Time{}, nil)
	fast := b.Subscribe(ctx, time.Time{}, time.Time{}, nil)
	var got int
	for i := 0; i < 5; i++ {
		b.Publish(msg("start", "a"))
		next(t, fast)
		got++
	}
	if got != 5 {
		t.Errorf("fast subscriber got %d events, want 5", got)
	}
	if n := len(drain(t, slow)); n != 2 {
		t.Errorf("slow subscriber got %d events before being dropped, want its buffer (2)", n)
	}
	if !errors.Is(slow.Err(), ErrSlow) {
		t.Errorf("slow err = %v, want ErrSlow", slow.Err())
	}
	if n := b.Subscribers(); n != 1 {
		t.Errorf("%d subscribers, want 1 (the fast one)", n)
	}
}
