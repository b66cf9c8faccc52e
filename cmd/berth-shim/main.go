// Command berth-shim is what the agent runs for each container: its
// monitor, its init and the helper of each exec (the runtime's hidden
// commands, see container.RunHidden). It is the agent's runtime without
// the API server, the image store or the builder: a third of the agent's
// size, it starts in half the time, and a `berth run` starts two of it. It
// is not installed on its own: `make agents` embeds it in the agent
// (package runtime/shimbin), which runs it from a sealed in-memory copy.
//
//	berth-shim container-monitor DIR|--spare
//	berth-shim container-init
//	berth-shim container-exec
package main

import (
	"fmt"
	"os"

	"github.com/berthvm/berth/runtime/container"
)

func main() {
	container.RunHidden(os.Args)
	fmt.Fprintln(os.Stderr, "berth-shim: the berth agent runs this program for its containers; it is not run by hand")
	os.Exit(2)
}
