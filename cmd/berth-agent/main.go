// Command berth-agent runs inside a berth machine and serves the Docker
// Engine API subset berth needs on a unix socket.
package main

import (
	"fmt"
	"os"

	"github.com/berthvm/berth/version"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println(version.Version)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: berth-agent version")
	os.Exit(2)
}
