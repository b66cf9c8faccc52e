package agentclient

import (
	"context"
	"net"
)

// DialStream opens one raw stream to the agent's socket (a new
// `berth-agent dial-stdio` session on the client's SSH connection), for
// relaying a whole client connection, hijacked streams included.
func (c *Client) DialStream(ctx context.Context) (net.Conn, error) {
	return c.dial(ctx, "unix", "agent")
}
