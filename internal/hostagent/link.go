package hostagent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/runtime/berthapi"
)

// ErrMachineStopped ends a host agent whose machine stopped under it.
var ErrMachineStopped = errors.New("the machine is not running")

// link keeps one connection to the machine's agent, made again with
// backoff whenever it drops.
type link struct {
	m      *machine.Machine // as loaded at the last attempt
	load   func() (*machine.Machine, error)
	log    *slog.Logger
	status func(state, agent, errText string)

	mu  sync.Mutex
	cur *agentclient.Client
	up  chan struct{} // closed while cur is set
}

func newLink(m *machine.Machine, load func() (*machine.Machine, error), log *slog.Logger, status func(state, agent, errText string)) *link {
	return &link{m: m, load: load, log: log, status: status, up: make(chan struct{})}
}

// The backoff between two connection attempts.
const (
	minBackoff = 250 * time.Millisecond
	maxBackoff = 5 * time.Second
	// stoppedChecks is how many failed attempts in a row, each finding
	// the machine not running, end the host agent.
	stoppedChecks = 3
	// warmConns is how many idle SSH connections are kept ready.
	warmConns = 3
)

// run connects, waits for the connection to drop, and connects again,
// until ctx ends or the machine is found stopped. onUp is called with
// each new connection, the machine as loaded for it (a start may have
// changed its settings, such as QEMU's SSH port) and ctx of its life.
func (l *link) run(ctx context.Context, onUp func(ctx context.Context, c *agentclient.Client, m *machine.Machine)) error {
	backoff := minBackoff
	stopped := 0
	for ctx.Err() == nil {
		c, err := l.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if _, serr := os.Stat(filepath.Join(l.m.Dir, machine.ConfigFile)); errors.Is(serr, fs.ErrNotExist) {
				return fmt.Errorf("machine %q was removed: %w", l.m.Name, ErrMachineStopped)
			}
			if st, serr := l.m.Driver.State(ctx); serr == nil && st != drivers.StateRunning {
				if stopped++; stopped >= stoppedChecks {
					return fmt.Errorf("machine %q is %s: %w", l.m.Name, st, ErrMachineStopped)
				}
			} else {
				stopped = 0
			}
			l.status(StateConnecting, agentclient.Problem(err), err.Error())
			l.log.Info("connect to the agent", "err", err, "retry in", backoff)
			select {
			case <-ctx.Done():
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff, stopped = minBackoff, 0
		// Relayed connections are streams of one dial-mux session. With
		// an agent without dial-mux each is an SSH session; on dropbear
		// each session needs a connection of its own, so keep some ready.
		if !c.Muxed() {
			c.SSH().KeepWarm(warmConns)
		}
		l.log.Info("connected", "agent", l.checkAgent(ctx, c))
		cctx, cancel := context.WithCancel(ctx)
		go onUp(cctx, c, l.m)
		select {
		case <-ctx.Done():
		case <-l.drops(c):
			l.log.Info("connection to the machine dropped")
			l.status(StateConnecting, "", "the connection to the machine dropped")
		}
		cancel()
		l.set(nil)
		c.Close()
	}
	return nil
}

// checkAgent reads the version of the agent c reaches into the status
// (ready, with the version or what is wrong) and returns it. Clients
// trust it: berth's own commands skip the API version check with an
// agent of their build, so it is read again whenever the agent may have
// been replaced (its event stream broke).
func (l *link) checkAgent(ctx context.Context, c *agentclient.Client) string {
	v, err := c.AgentVersion(ctx)
	return l.agentStatus(v, err)
}

// agentStatus puts the agent's version, or what is wrong, in the status.
func (l *link) agentStatus(v berthapi.Version, err error) string {
	agent := v.Version
	if err != nil {
		agent = agentclient.Problem(err)
	}
	l.status(StateReady, agent, "")
	return agent
}

// recheckAgent is checkAgent after the agent's event stream broke: the
// status names no version until the agent answers again (tried every
// 250 ms, for at most a minute).
func (l *link) recheckAgent(ctx context.Context, c *agentclient.Client) {
	if ctx.Err() != nil {
		return // the link is down: its status says so
	}
	l.status(StateReady, "agent restarting", "")
	v, err := c.AgentVersion(ctx)
	for try := 1; err != nil && try < 240; try++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		v, err = c.AgentVersion(ctx)
	}
	if ctx.Err() == nil {
		l.log.Info("agent back", "agent", l.agentStatus(v, err))
	}
}

// connect dials the machine's SSH server and its agent once, with the
// machine's settings read again (a start may have moved its SSH port).
func (l *link) connect(ctx context.Context) (*agentclient.Client, error) {
	if m, err := l.load(); err == nil {
		l.m = m
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := agentclient.ForLoaded(dctx, l.m)
	if err != nil {
		return nil, err
	}
	l.set(c)
	return c, nil
}

// drops is closed when c's SSH connection ends.
func (l *link) drops(c *agentclient.Client) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		c.SSH().Wait()
		close(ch)
	}()
	return ch
}

func (l *link) set(c *agentclient.Client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c != nil && l.cur == nil {
		close(l.up)
	}
	if c == nil && l.cur != nil {
		l.up = make(chan struct{})
	}
	l.cur = c
}

// client waits, within ctx, for a connection to the agent.
func (l *link) client(ctx context.Context) (*agentclient.Client, error) {
	for {
		l.mu.Lock()
		c, up := l.cur, l.up
		l.mu.Unlock()
		if c != nil {
			return c, nil
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, fmt.Errorf("no connection to machine %q yet: %w", l.m.Name, context.Cause(ctx))
		}
	}
}
