package hostagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/agentclient"
	"github.com/berthvm/berth/internal/machine"
)

// Run is the host agent of the machine called name in store: it serves
// the machine's Docker API on SocketPath until ctx ends or the machine
// stops, and removes its files when it returns. It fails with
// ErrAlreadyRunning when another host agent serves the machine.
func Run(ctx context.Context, store *machine.Store, name string, log *slog.Logger) error {
	m, err := store.Load(name)
	if err != nil {
		return err
	}
	unlock, err := lock(m.Dir)
	if err != nil {
		return fmt.Errorf("host agent of machine %q: %w", m.Name, err)
	}
	defer unlock()
	pidPath := filepath.Join(m.Dir, PidFile)
	if err := os.WriteFile(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return fmt.Errorf("host agent of machine %q: %w", m.Name, err)
	}
	defer os.Remove(pidPath)
	defer os.Remove(filepath.Join(m.Dir, StatusFile))

	ln, err := listen(m.Dir)
	if err != nil {
		return fmt.Errorf("host agent of machine %q: %w", m.Name, err)
	}
	defer removeSocket(m.Dir)

	var stMu sync.Mutex
	st := Status{Pid: os.Getpid(), Endpoint: Endpoint(m.Dir), State: StateConnecting}
	setStatus := func(state, agent, errText string) {
		stMu.Lock()
		defer stMu.Unlock()
		st.State, st.Error = state, errText
		if agent != "" || state == StateReady {
			st.Agent = agent
		}
		if err := writeStatus(m.Dir, st); err != nil {
			log.Warn("write status", "err", err)
		}
	}
	setStatus(StateConnecting, "", "")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := newLink(m, func() (*machine.Machine, error) { return store.Load(name) }, log, setStatus)
	dial := func(ctx context.Context) (net.Conn, error) {
		wctx, wcancel := context.WithTimeout(ctx, dialWait)
		defer wcancel()
		c, err := l.client(wctx)
		if err != nil {
			return nil, err
		}
		return c.DialStreamEarly(ctx)
	}
	linkErr := make(chan error, 1)
	go func() {
		linkErr <- l.run(ctx, func(ctx context.Context, c *agentclient.Client, m *machine.Machine) {
			// The driver of the machine as it is now: one loaded before a
			// start would take the new SSH forward for a container's.
			pf, _ := m.Driver.(drivers.PortForwarder)
			followContainers(ctx, c, pf, log, func() { l.recheckAgent(ctx, c) })
		})
		cancel()
	}()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	log.Info("serving", "endpoint", st.Endpoint, "machine", m.Name)
	serr := serve(ctx, ln, dial, log)
	cancel()
	lerr := <-linkErr
	if errors.Is(lerr, ErrMachineStopped) {
		log.Info("machine stopped; host agent ends", "err", lerr)
		return nil
	}
	return errors.Join(serr, lerr)
}
