// Package events fans out the agent's events to its subscribers, with a
// short replay buffer for since.
package events

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
)

// ErrSlow ends a subscription whose reader fell further behind than its
// buffer: the broker drops it rather than make publishers wait. The
// reader may subscribe again with since at the time of the last event it
// read.
var ErrSlow = errors.New("event subscriber too slow: dropped")

// Defaults of Options.
const (
	DefaultKeep   = 1024
	DefaultBuffer = 256
)

// Options size a Broker; zero fields take the defaults.
type Options struct {
	// Keep is how many recent events are kept for subscribers' since.
	Keep int
	// Buffer is how many live events a subscriber may lag behind before
	// it is dropped.
	Buffer int
}

// Broker publishes events to its subscribers. It has no goroutine and no
// timer of its own: an idle broker costs nothing. Its methods are safe
// for concurrent use.
type Broker struct {
	mu     sync.Mutex
	ring   []events.Message // the last len(ring) events from head on, circular
	head   int
	n      int
	buffer int
	subs   map[*Subscription]struct{}
}

// New makes a Broker.
func New(opts Options) *Broker {
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultBuffer
	}
	return &Broker{ring: make([]events.Message, opts.Keep), buffer: opts.Buffer, subs: map[*Subscription]struct{}{}}
}

// Publish stamps m (Time and TimeNano now when unset, Scope "local" when
// empty), keeps it for replay and hands it to every subscriber whose
// filter takes it. It never blocks on a subscriber. Subscribers share m's
// Attributes map: the caller does not change it afterwards.
func (b *Broker) Publish(m events.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m.TimeNano == 0 {
		now := time.Now()
		m.Time, m.TimeNano = now.Unix(), now.UnixNano()
	}
	if m.Scope == "" {
		m.Scope = "local"
	}
	if b.n < len(b.ring) {
		b.ring[(b.head+b.n)%len(b.ring)] = m
		b.n++
	} else {
		b.ring[b.head] = m
		b.head = (b.head + 1) % len(b.ring)
	}
	for s := range b.subs {
		if !s.until.IsZero() && m.TimeNano > s.until.UnixNano() || !s.filter.Match(m) {
			continue
		}
		select {
		case s.ch <- m:
		default:
			b.endLocked(s, ErrSlow)
		}
	}
}

// Subscription is one subscriber's stream of events.
type Subscription struct {
	ch      chan events.Message
	filter  Filter
	until   time.Time
	err     error
	release func()
}

// Events delivers the subscription's events, oldest first; it is closed
// when the subscription ends.
func (s *Subscription) Events() <-chan events.Message { return s.ch }

// Err says why Events was closed: ErrSlow when the subscriber was
// dropped, nil when its context ended or until passed. Call it only once
// Events is closed.
func (s *Subscription) Err() error { return s.err }

// Subscribe streams the events f takes. With since or until set, the
// kept events from since to until (both included; zero: unbounded) come
// first. With until set, the stream ends at until, at once when until has
// passed; without, it ends when ctx does. Events published after
// Subscribe returns follow the replayed ones, none missed or repeated.
func (b *Broker) Subscribe(ctx context.Context, since, until time.Time, f Filter) *Subscription {
	s := &Subscription{filter: f, until: until}
	b.mu.Lock()
	defer b.mu.Unlock()
	var replay []events.Message
	if !since.IsZero() || !until.IsZero() {
		replay = b.keptLocked(since, until, f)
	}
	s.ch = make(chan events.Message, len(replay)+b.buffer)
	for _, m := range replay {
		s.ch <- m
	}
	if !until.IsZero() && !until.After(time.Now()) {
		close(s.ch)
		return s
	}
	b.subs[s] = struct{}{}
	cancel := context.CancelFunc(func() {})
	if !until.IsZero() {
		ctx, cancel = context.WithDeadline(ctx, until)
	}
	stop := context.AfterFunc(ctx, func() { b.end(s) })
	s.release = func() { stop(); cancel() }
	return s
}

// keptLocked are the kept events in [since, until] that f takes.
func (b *Broker) keptLocked(since, until time.Time, f Filter) []events.Message {
	var out []events.Message
	for i := 0; i < b.n; i++ {
		m := b.ring[(b.head+i)%len(b.ring)]
		if !since.IsZero() && m.TimeNano < since.UnixNano() {
			continue
		}
		if !until.IsZero() && m.TimeNano > until.UnixNano() {
			continue
		}
		if f.Match(m) {
			out = append(out, m)
		}
	}
	return out
}

// end ends s because its context ended or its until passed.
func (b *Broker) end(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.endLocked(s, nil)
}

func (b *Broker) endLocked(s *Subscription, err error) {
	if _, ok := b.subs[s]; !ok {
		return
	}
	delete(b.subs, s)
	s.err = err
	close(s.ch)
	s.release()
}

// Subscribers is how many subscriptions are open.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
