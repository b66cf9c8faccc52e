package teamenv

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/hostport"
	"github.com/berthvm/berth/internal/machine"
)

// PortUse is a host port a service of the environment publishes.
type PortUse struct {
	Machine string // the machine's berth name ("shop-app")
	Service string
	Proto   string // "tcp" or "udp"
	Port    int
}

// Holder is a berth machine that forwards a host port now.
type Holder struct {
	Machine string // berth name
	Env     string // the environment it belongs to, "" for none
	Forward drivers.Forward
}

func (h Holder) String() string {
	s := fmt.Sprintf("machine %s", h.Machine)
	if h.Env != "" {
		s += fmt.Sprintf(" (environment %s)", h.Env)
	}
	return s
}

// ErrPortTaken marks a host port the environment wants that someone else
// holds.
var ErrPortTaken = errors.New("host port taken")

// HeldPorts lists the forwards of every running machine in store.
func HeldPorts(ctx context.Context, store *machine.Store) []Holder {
	names, _ := store.Names()
	var out []Holder
	for _, n := range names {
		m, err := store.Load(n)
		if err != nil {
			continue
		}
		pf, ok := m.Driver.(drivers.PortForwarder)
		if !ok {
			continue
		}
		if st, err := m.Driver.State(ctx); err != nil || st != drivers.StateRunning {
			continue
		}
		fwds, err := pf.Forwards(ctx)
		if err != nil {
			continue
		}
		for _, f := range fwds {
			out = append(out, Holder{Machine: n, Env: m.Labels[LabelEnv], Forward: f})
		}
	}
	return out
}

// CheckPorts refuses, naming the holder, every port in want that two of
// the environment's services publish, that another berth machine
// forwards, or (when free is set) that another program on this computer
// listens on. A port the same machine forwards already is its own.
func CheckPorts(want []PortUse, held []Holder, free func(proto string, port int) bool) error {
	if free == nil {
		free = func(string, int) bool { return true }
	}
	sort.Slice(want, func(i, j int) bool {
		if want[i].Port != want[j].Port {
			return want[i].Port < want[j].Port
		}
		return want[i].Machine+want[i].Service < want[j].Machine+want[j].Service
	})
	var msgs []string
	first := map[string]PortUse{}
	for _, u := range want {
		key := fmt.Sprintf("%d/%s", u.Port, u.Proto)
		if prev, dup := first[key]; dup {
			msgs = append(msgs, fmt.Sprintf("host port %s: published by service %s on %s and by service %s on %s", key, prev.Service, prev.Machine, u.Service, u.Machine))
			continue
		}
		first[key] = u
		own, other := false, Holder{}
		for _, h := range held {
			if h.Forward.HostPort != u.Port || h.Forward.Proto != u.Proto {
				continue
			}
			if h.Machine == u.Machine {
				own = true
			} else {
				other = h
			}
		}
		switch {
		case other.Machine != "":
			msgs = append(msgs, fmt.Sprintf("host port %s (service %s on %s): held by %s", key, u.Service, u.Machine, other))
		case !own && !free(u.Proto, u.Port):
			msgs = append(msgs, fmt.Sprintf("host port %s (service %s on %s): held by another program on this computer", key, u.Service, u.Machine))
		}
	}
	if len(msgs) > 0 {
		return fmt.Errorf("%w:\n  %s\n(change the published port in the compose file, or stop what holds it)", ErrPortTaken, strings.Join(msgs, "\n  "))
	}
	return nil
}

// PortFree says whether proto port is free on this computer's 127.0.0.1.
func PortFree(proto string, port int) bool {
	return hostport.Listen(proto, "127.0.0.1", port) == nil
}
