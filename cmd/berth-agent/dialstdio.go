package main

import (
	"flag"
	"fmt"
	"io"
	"net"

	"github.com/berthvm/berth/runtime/server"
)

// dialStdioCmd bridges stdin/stdout to the agent socket: stdin EOF
// half-closes the socket, and the command ends when the agent closes its
// side.
func dialStdioCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dial-stdio", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", server.DefaultSocket, "agent socket to connect to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, err := dialAgent(*socket)
	if err != nil {
		return err
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()

	up := make(chan error, 1)
	go func() {
		_, err := io.Copy(conn, stdin)
		if cerr := conn.CloseWrite(); err == nil {
			err = cerr
		}
		up <- err
	}()
	if _, err := io.Copy(stdout, conn); err != nil {
		return fmt.Errorf("copy from agent: %w", err)
	}
	// The agent closed its side: the exchange is over whether or not the
	// client is still sending.
	select {
	case err := <-up:
		if err != nil {
			return fmt.Errorf("copy to agent: %w", err)
		}
	default:
	}
	return nil
}

// dialAgent connects to the agent's socket. The CLI reads its error's
// words ("connect to the agent") to tell a stopped agent from other
// failures (internal/agentclient).
func dialAgent(socket string) (net.Conn, error) {
	c, err := net.Dial("unix", socket)
	if err != nil {
		return nil, fmt.Errorf("connect to the agent (is it running?): %w", err)
	}
	return c, nil
}
