package main

import (
	"flag"
	"io"
	"net"

	"github.com/berthvm/berth/internal/streammux"
	"github.com/berthvm/berth/runtime/server"
)

// dialMuxCmd serves a stream session (package streammux) on stdin and
// stdout: each stream the client opens is connected to the agent socket,
// or refused with dial-stdio's message when the agent does not answer.
// One SSH session then carries every stream of a CLI or host agent. It
// ends when stdin ends.
func dialMuxCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dial-mux", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socket := fs.String("socket", server.DefaultSocket, "agent socket to connect streams to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return streammux.Serve(stdin, stdout, func() (net.Conn, error) { return dialAgent(*socket) })
}
