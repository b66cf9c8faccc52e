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
