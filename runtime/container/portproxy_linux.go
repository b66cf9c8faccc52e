package container

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// udpIdle is how long a UDP flow without packets keeps its socket.
const udpIdle = 2 * time.Minute

// portProxy forwards the machine's published ports into one run of a
// container: it listens in the machine's network namespace and connects
// from a thread that sits in the container's, to the container's bridge
// address as Docker does (a server bound to it alone is reached), and to
// 127.0.0.1 when that refuses or the container has no address.
type portProxy struct {
	tcp  []tcpPort
	udp  []udpPort
	dial chan dialRequest
	wg   sync.WaitGroup
	// addr is the container's bridge address; invalid without one.
	addr netip.Addr
}

type tcpPort struct {
	ln     net.Listener
	target string
	port   int
}

type udpPort struct {
	pc     net.PacketConn
	target string
}

type dialRequest struct {
	network, addr string
	reply         chan dialResult
}

type dialResult struct {
	conn net.Conn
	err  error
}

// listenPorts takes the machine ports of ports; a taken port is an error
// that names it.
func listenPorts(ports []PortBinding) (*portProxy, error) {
	p := &portProxy{dial: make(chan dialRequest)}
	for _, b := range ports {
		addr := ":" + strconv.Itoa(b.HostPort)
		target := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.ContainerPort))
		var err error
		switch b.Proto {
		case "udp":
			var pc net.PacketConn
			if pc, err = net.ListenPacket("udp", addr); err == nil {
				p.udp = append(p.udp, udpPort{pc: pc, target: target})
			}
		default:
			var ln net.Listener
			if ln, err = net.Listen("tcp", addr); err == nil {
				p.tcp = append(p.tcp, tcpPort{ln: ln, target: target, port: b.ContainerPort})
			}
		}
		if err != nil {
			p.close()
			return nil, fmt.Errorf("publish port %d/%s on machine port %d (is another container or program using it?): %w", b.ContainerPort, b.Proto, b.HostPort, err)
		}
	}
	return p, nil
}

// errProcessGone is serve's answer when the process already exited (a
// container running `true`): there is nothing to forward to, and the start
// itself succeeded.
var errProcessGone = errors.New("the container's process already exited")

// serve starts forwarding into the network namespace of process pid,
// whose bridge address is addr (invalid: none).
func (p *portProxy) serve(pid int, addr netip.Addr) error {
	p.addr = addr
	if len(p.tcp)+len(p.udp) == 0 {
		return nil
	}
	ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if errors.Is(err, os.ErrNotExist) {
		return errProcessGone
	}
	if err != nil {
		return fmt.Errorf("open the container's network namespace: %w", err)
	}
	ready := make(chan error, 1)
	go p.dialer(ns, ready)
	if err := <-ready; err != nil {
		return err
	}
	for _, t := range p.tcp {
		p.wg.Add(1)
		go p.acceptTCP(t)
	}
	for _, u := range p.udp {
		p.wg.Add(1)
		go p.relayUDP(u)
	}
	return nil
}

// dialer makes every connection into the container. Its goroutine keeps
// its thread locked for good, so the thread, which is in the container's
// network namespace, ends with it instead of going back to the pool.
func (p *portProxy) dialer(ns *os.File, ready chan<- error) {
	runtime.LockOSThread()
	err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET)
	ns.Close()
	if err != nil {
		ready <- fmt.Errorf("enter the container's network namespace: %w", err)
		return
	}
	ready <- nil
	for req := range p.dial {
		c, err := net.DialTimeout(req.network, req.addr, 5*time.Second)
		req.reply <- dialResult{c, err}
	}
}

func (p *portProxy) dialContainer(network, addr string) (net.Conn, error) {
	reply := make(chan dialResult, 1)
	p.dial <- dialRequest{network, addr, reply}
	r := <-reply
	return r.conn, r.err
}

func (p *portProxy) acceptTCP(t tcpPort) {
	defer p.wg.Done()
	for {
		c, err := t.ln.Accept()
		if err != nil {
			return
		}
		// Dialled here, not in pipeTCP: close waits for this loop, and
		// after it no dial may be asked for.
		in, err := p.dialTCP(t)
		if err != nil {
			c.Close()
			continue
		}
		go pipeTCP(c, in)
	}
}

// dialTCP connects to the container's port on its bridge address, then on
// 127.0.0.1 when that is refused.
func (p *portProxy) dialTCP(t tcpPort) (net.Conn, error) {
	if p.addr.IsValid() {
		c, err := p.dialContainer("tcp", netip.AddrPortFrom(p.addr, uint16(t.port)).String())
		if !errors.Is(err, unix.ECONNREFUSED) {
			return c, err
		}
	}
	return p.dialContainer("tcp", t.target)
}

// pipeTCP copies both ways, passing on half-closes.
func pipeTCP(c, in net.Conn) {
	defer c.Close()
	defer in.Close()
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go copyHalf(in, c)
	go copyHalf(c, in)
	<-done
	<-done
}

// relayUDP gives each client address a socket of its own in the
// container, so replies go back to the client that asked.
func (p *portProxy) relayUDP(u udpPort) {
	defer p.wg.Done()
	var mu sync.Mutex
	flows := map[string]net.Conn{}
	buf := make([]byte, 65535)
	for {
		n, from, err := u.pc.ReadFrom(buf)
		if err != nil {
			mu.Lock()
			for _, c := range flows {
				c.Close()
			}
			mu.Unlock()
			return
		}
		key := from.String()
		mu.Lock()
		c := flows[key]
		mu.Unlock()
		if c == nil {
			if c, err = p.dialContainer("udp", u.target); err != nil {
				continue
			}
			mu.Lock()
			flows[key] = c
			mu.Unlock()
			go func() {
				b := make([]byte, 65535)
				for {
					c.SetReadDeadline(time.Now().Add(udpIdle))
					n, err := c.Read(b)
					if err != nil && !errors.Is(err, unix.ECONNREFUSED) {
						break
					}
					if n > 0 {
						u.pc.WriteTo(b[:n], from)
					}
				}
				mu.Lock()
				delete(flows, key)
				mu.Unlock()
				c.Close()
			}()
		}
		c.Write(buf[:n])
	}
}

// close stops listening, ends the UDP flows and the dialer thread.
func (p *portProxy) close() {
	for _, t := range p.tcp {
		t.ln.Close()
	}
	for _, u := range p.udp {
		u.pc.Close()
	}
	p.wg.Wait()
	close(p.dial)
}
