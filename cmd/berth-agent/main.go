// Command berth-agent runs inside a berth machine and serves the Docker
// Engine API subset berth needs on a unix socket.
//
//	berth-agent serve [--socket PATH] [--state-dir DIR] [--debug]
//	berth-agent dial-stdio [--socket PATH]
//	berth-agent dial-mux [--socket PATH]
//	berth-agent version
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/berthvm/berth/runtime/container"
)

const usage = `usage: berth-agent COMMAND [FLAGS]

Commands:
  serve       serve the API on the agent socket (run by the machine's supervisor)
  dial-stdio  connect stdin/stdout to the agent socket (run over SSH by the CLI)
  dial-mux    carry many streams to the agent socket on stdin/stdout (run over SSH by the CLI)
  version     print the agent's version
`

// errUsage marks a bad command line (exit code 2).
var errUsage = errors.New("bad usage")

func main() {
	// The container init, monitor and exec helper are this binary re-executed.
	container.RunHidden(os.Args)
	err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "berth-agent:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serveCmd(args[1:], stderr)
	case "dial-stdio":
		return dialStdioCmd(args[1:], stdin, stdout, stderr)
	case "dial-mux":
		return dialMuxCmd(args[1:], stdin, stdout, stderr)
	case "version", "--version":
		return versionCmd(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "berth-agent: unknown command %q\n%s", args[0], usage)
	return errUsage
}
