package agentclient

import (
	"context"
	"net"
)

// DialStream opens one raw stream to the agent's socket (a stream of the
// client's dial-mux session, or a dial-stdio session with older agents),
// for relaying a whole client connection, hijacked streams included. The
// stream half-closes (CloseWrite).
func (c *Client) DialStream(ctx context.Context) (net.Conn, error) {
	return c.dial(ctx, "unix", "agent")
}

// DialStreamEarly is DialStream without waiting for the agent's end to
// connect the stream, saving a round trip to the machine, when the
// client's streams share a dial-mux session (else it is DialStream). A
// stream the agent's end refuses fails its first Read or Write with the
// *Error that DialStream would have returned.
func (c *Client) DialStreamEarly(ctx context.Context) (net.Conn, error) {
	return c.dialStream(ctx, true)
}
