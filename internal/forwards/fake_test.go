package forwards

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/berthvm/berth/drivers"
)

// fakeContainer is a container of fakeAgent and the forwards its
// published ports need.
type fakeContainer struct {
	id    string
	state ctypes.ContainerState
	fwds  []drivers.Forward
}

// fakeAgent is an Agent that lists containers, or fails to.
type fakeAgent struct {
	containers []fakeContainer
	listErr    error
	inspectErr error
	closed     int
}

func (a *fakeAgent) ContainerList(ctx context.Context, opts client.ContainerListOptions) (client.ContainerListResult, error) {
	if a.listErr != nil {
		return client.ContainerListResult{}, a.listErr
	}
	if !opts.All {
		return client.ContainerListResult{}, errors.New("fake agent: list without All")
	}
	var res client.ContainerListResult
	for _, c := range a.containers {
		s := ctypes.Summary{ID: c.id, State: c.state}
		for _, f := range c.fwds {
			s.Ports = append(s.Ports, ctypes.PortSummary{PrivatePort: uint16(f.GuestPort), PublicPort: uint16(f.HostPort), Type: f.Proto})
		}
		res.Items = append(res.Items, s)
	}
	return res, nil
}

func (a *fakeAgent) ContainerInspect(ctx context.Context, id string, opts client.ContainerInspectOptions) (client.ContainerInspectResult, error) {
	if a.inspectErr != nil {
		return client.ContainerInspectResult{}, a.inspectErr
	}
	for _, c := range a.containers {
		if c.id != id {
			continue
		}
		hc := &ctypes.HostConfig{PortBindings: network.PortMap{}}
		for _, f := range c.fwds {
			p := network.MustParsePort(fmt.Sprintf("%d/%s", f.GuestPort, f.Proto))
			hc.PortBindings[p] = append(hc.PortBindings[p], network.PortBinding{HostIP: netip.MustParseAddr(f.HostIP), HostPort: strconv.Itoa(f.HostPort)})
		}
		var res client.ContainerInspectResult
		res.Container.ID = id
		res.Container.HostConfig = hc
		return res, nil
	}
	return client.ContainerInspectResult{}, fmt.Errorf("no such container: %s", id)
}

func (a *fakeAgent) Close() error { a.closed++; return nil }

// fakeForwarder is a drivers.PortForwarder whose forwards listen on their
// host ports on 127.0.0.1, as a hypervisor's do. It records its calls.
type fakeForwarder struct {
	mu        sync.Mutex
	fwds      []drivers.Forward
	listeners map[drivers.Forward]io.Closer
	calls     []string
	// deaf makes AddForward add forwards that do not listen.
	deaf bool
	// failAdd makes AddForward fail for this host port.
	failAdd int
}

func newForwarder(t *testing.T) *fakeForwarder {
	pf := &fakeForwarder{listeners: map[drivers.Forward]io.Closer{}}
	t.Cleanup(func() {
		for _, l := range pf.listeners {
			l.Close()
		}
	})
	return pf
}

// has gives pf forward f, listening unless dead, as if a command before
// had added it.
func (pf *fakeForwarder) has(t *testing.T, f drivers.Forward, dead bool) {
	t.Helper()
	pf.fwds = append(pf.fwds, f)
	if !dead {
		pf.listeners[f] = listen(t, f)
	}
}

func (pf *fakeForwarder) AddForward(ctx context.Context, f drivers.Forward) error {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.calls = append(pf.calls, "add "+forwardName(f))
	if f.HostPort == pf.failAdd {
		return errors.New("fake forwarder: add failed")
	}
	if slices.Contains(pf.fwds, f) {
		return nil
	}
	if !pf.deaf {
		l, err := listenOn(f)
		if err != nil {
			return err
		}
		pf.listeners[f] = l
	}
	pf.fwds = append(pf.fwds, f)
	return nil
}

func (pf *fakeForwarder) RemoveForward(ctx context.Context, f drivers.Forward) error {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.calls = append(pf.calls, "remove "+forwardName(f))
	if l, ok := pf.listeners[f]; ok {
		l.Close()
		delete(pf.listeners, f)
	}
	pf.fwds = slices.DeleteFunc(pf.fwds, func(g drivers.Forward) bool { return g == f })
	return nil
}

func (pf *fakeForwarder) Forwards(ctx context.Context) ([]drivers.Forward, error) {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	return slices.Clone(pf.fwds), nil
}

func forwardName(f drivers.Forward) string {
	return net.JoinHostPort(f.HostIP, strconv.Itoa(f.HostPort)) + "/" + f.Proto
}

// listenOn holds f's host port.
func listenOn(f drivers.Forward) (io.Closer, error) {
	addr := net.JoinHostPort(f.HostIP, strconv.Itoa(f.HostPort))
	if f.Proto == "udp" {
		return net.ListenPacket("udp", addr)
	}
	return net.Listen("tcp", addr)
}

// listen holds f's host port until the test ends or the caller closes it.
func listen(t *testing.T, f drivers.Forward) io.Closer {
	t.Helper()
	l, err := listenOn(f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// freePorts returns n distinct ports of proto on 127.0.0.1 that were free
// a moment ago.
func freePorts(t *testing.T, proto string, n int) []int {
	t.Helper()
	var ports []int
	var held []io.Closer
	for range n {
		l, err := listenOn(drivers.Forward{Proto: proto, HostIP: "127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, l)
		switch l := l.(type) {
		case net.Listener:
			ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		case net.PacketConn:
			ports = append(ports, l.LocalAddr().(*net.UDPAddr).Port)
		}
	}
	for _, l := range held {
		l.Close()
	}
	return ports
}
