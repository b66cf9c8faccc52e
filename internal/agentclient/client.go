// Package agentclient reaches a machine's agent: one SSH connection per
// CLI invocation carries many HTTP requests. Every connection to the agent
// is a stream of one `berth-agent dial-mux` session (package streammux)
// bridged to the agent's socket; with an agent too old for dial-mux, each
// is a `berth-agent dial-stdio` session of its own.
package agentclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// Options say how to reach the agent over an SSH connection.
type Options struct {
	// Machine names the machine in error messages.
	Machine string
	// Sudo runs dial-stdio with `sudo -n` (SSH users other than root: the
	// agent's socket is root only).
	Sudo bool
	// AgentPath is the agent binary on the machine (berthapi.AgentPath).
	AgentPath string
	// Socket is the agent's socket; empty means the agent's default.
	Socket string
}

// Client is a connection to one machine's agent. Its embedded Docker
// client speaks the agent's Docker Engine API; Health and Version read
// berth's own endpoints. Close it when done.
type Client struct {
	*client.Client
	opts    Options
	ssh     *sshutil.Client
	ownsSSH bool
	http    *http.Client
	cmd     string // runs dial-stdio
	muxCmd  string // runs dial-mux

	muxMu sync.Mutex // held while a dial-mux session starts

	mu   sync.Mutex
	last *sshutil.StreamConn // the newest dial-stdio session
	mux  *muxSession         // the dial-mux session; nil before the first stream
	// dialErr is why the last stream could not be opened; nil once one
	// opened (the Docker client does not wrap dial errors).
	dialErr *Error
	noMux   bool // the agent has no dial-mux: streams use dial-stdio
}

// New reaches the agent through ssh, which the caller keeps and closes,
// and checks that the agent answers (negotiating the API version). Its
// errors are *Error saying whether the agent or the request failed.
func New(ctx context.Context, ssh *sshutil.Client, opts Options) (*Client, error) {
	if opts.AgentPath == "" {
		opts.AgentPath = berthapi.AgentPath
	}
	c := &Client{opts: opts, ssh: ssh, cmd: agentCommand(opts, "dial-stdio"), muxCmd: agentCommand(opts, "dial-mux")}
	c.http = &http.Client{Transport: &http.Transport{
		DialContext:     c.dial,
		MaxIdleConns:    4,
		IdleConnTimeout: 30 * time.Second,
	}}
	mc, err := client.New(
		client.WithHost("unix://"+defaultSocket), // only names the API; dial goes over SSH
		client.WithDialContext(c.dial),
		// Its event streams tell whether new containers publish ports.
		client.WithHTTPHeaders(map[string]string{berthapi.EventsHeader: berthapi.PublishesAttr}),
	)
	if err != nil {
		return nil, &Error{Machine: opts.Machine, Stage: StageRequest, Err: fmt.Errorf("make docker client: %w", err)}
	}
	c.Client = mc
	if _, err := mc.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		err = c.explain(err)
		c.Close()
		return nil, err
	}
	return c, nil
}

// agentCommand is the command line that runs the agent's sub on the
// machine.
func agentCommand(opts Options, sub string) string {
	cmd := opts.AgentPath + " " + sub
	if opts.Socket != "" {
		cmd += " --socket " + opts.Socket
	}
	if opts.Sudo {
		cmd = "sudo -n " + cmd
	}
	return cmd
}

// dial opens one stream to the agent: a stream of the dial-mux session,
// or with an agent that has no dial-mux a new SSH session running
// dial-stdio (sshutil gives servers that allow one session per
// connection a connection per session).
func (c *Client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	return c.dialStream(ctx, false)
}

// dialStream is dial; early is dialMux's.
func (c *Client) dialStream(ctx context.Context, early bool) (net.Conn, error) {
	c.mu.Lock()
	noMux := c.noMux
	c.mu.Unlock()
	if !noMux {
		conn, err := c.dialMux(ctx, early)
		if !errors.Is(err, errNoMux) {
			return conn, c.dialed(err)
		}
		c.mu.Lock()
		c.noMux = true
		c.mu.Unlock()
	}
	sc, err := c.ssh.Stream(ctx, c.cmd)
	if err != nil {
		return nil, c.dialed(&Error{Machine: c.opts.Machine, Stage: StageSSH, Err: err})
	}
	c.mu.Lock()
	c.last = sc
	c.dialErr = nil
	c.mu.Unlock()
	return sc, nil
}

// dialed keeps the outcome of a dial for explain and returns err.
func (c *Client) dialed(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dialErr = asError(err)
	return err
}

// Muxed reports whether the client's streams share one dial-mux session
// (false before the first stream and with agents without dial-mux).
func (c *Client) Muxed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mux != nil
}

func (c *Client) closeIdle() {
	c.http.CloseIdleConnections()
	if c.Client != nil {
		c.Client.Close() // closes its idle connections; it stays usable
	}
}

// explain turns a failed exchange into an *Error naming what failed: the
// SSH connection, the agent (missing, not running), or the request.
func (c *Client) explain(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*Error); ok {
		return err
	}
	if ae := asError(err); ae != nil {
		return ae
	}
	c.mu.Lock()
	last, mux, dialErr := c.last, c.mux, c.dialErr
	c.mu.Unlock()
	if dialErr != nil {
		return dialErr
	}
	if mux != nil {
		// Requests on a mux session that runs failed for their own
		// reasons; one that ended may have said why.
		if mux.s.Err() != nil {
			if ae := c.muxEnded(mux, err); ae != nil {
				return ae
			}
		}
	} else if last != nil {
		// A dial-stdio that could not reach the socket exits at once; give
		// it a moment to report why.
		select {
		case <-exited(last):
		case <-time.After(2 * time.Second):
		}
		if ae := c.dialStdioError(err, strings.TrimSpace(last.Stderr())); ae != nil {
			return ae
		}
	}
	return &Error{Machine: c.opts.Machine, Stage: StageRequest, Err: err}
}

// dialStdioError is the agent-stage *Error that what dial-stdio wrote to
// stderr tells of err; nil when it wrote nothing.
func (c *Client) dialStdioError(err error, stderr string) *Error {
	switch {
	case strings.Contains(stderr, "connect to the agent"):
		return &Error{Machine: c.opts.Machine, Stage: StageAgent, Err: fmt.Errorf("%w: %s", ErrAgentNotRunning, stderr), Hint: "berth provision " + c.opts.Machine}
	case strings.Contains(stderr, "not found") || strings.Contains(stderr, "No such file"):
		return &Error{Machine: c.opts.Machine, Stage: StageAgent, Err: fmt.Errorf("%w at %s: %s", ErrNoAgent, c.opts.AgentPath, stderr), Hint: "berth provision " + c.opts.Machine}
	case strings.Contains(stderr, "sudo"):
		return &Error{Machine: c.opts.Machine, Stage: StageAgent, Err: fmt.Errorf("run the agent with sudo: %s", stderr)}
	case stderr != "":
		return &Error{Machine: c.opts.Machine, Stage: StageAgent, Err: fmt.Errorf("%w (dial-stdio said: %s)", err, stderr)}
	}
	return nil
}

func exited(sc *sshutil.StreamConn) <-chan struct{} {
	ch := make(chan struct{})
	go func() { _ = sc.Wait(); close(ch) }()
	return ch
}

// Health asks the agent for its health.
func (c *Client) Health(ctx context.Context) (berthapi.Health, error) {
	var h berthapi.Health
	return h, c.getJSON(ctx, berthapi.HealthPath, &h)
}

// AgentVersion asks the agent for its version.
func (c *Client) AgentVersion(ctx context.Context) (berthapi.Version, error) {
	var v berthapi.Version
	return v, c.getJSON(ctx, berthapi.VersionPath, &v)
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://agent"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.explain(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return c.explain(err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Message string }
		_ = json.Unmarshal(body, &e)
		return &Error{Machine: c.opts.Machine, Stage: StageRequest, Err: fmt.Errorf("GET %s: %s: %s", path, resp.Status, e.Message)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Machine: c.opts.Machine, Stage: StageRequest, Err: fmt.Errorf("GET %s: %w", path, err)}
	}
	return nil
}

// SSH returns the SSH connection the client uses, for commands that also
// run programs on the machine.
func (c *Client) SSH() *sshutil.Client { return c.ssh }

// Close closes the agent connections, and the SSH connection when the
// client made it (ForMachine).
func (c *Client) Close() error {
	c.closeIdle()
	c.mu.Lock()
	mux := c.mux
	c.mux = nil
	c.mu.Unlock()
	if mux != nil {
		mux.s.Close()
	}
	if c.ownsSSH {
		return c.ssh.Close()
	}
	return nil
}
