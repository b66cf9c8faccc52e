// Command berth-agent runs inside a berth machine and serves the Docker
// Engine API subset berth needs on a unix socket.
package main

import (
	"fmt"
	"os"
)

// version is set by the linker (-X main.version=...).
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "version" {
		fmt.Println(version)
		return
	}
	fmt.Fprintln(os.Stderr, "usage: berth-agent version")
	os.Exit(2)
}
