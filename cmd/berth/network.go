package main

import "github.com/urfave/cli/v2"

// networkCommand groups the network commands, as `docker network` does
// (read-only: a machine has the networks bridge, host and none).
func networkCommand() *cli.Command {
	return &cli.Command{
		Name:  "network",
		Usage: "Show the container networks of a machine",
		Description: `A machine has three networks, picked with ` + "`berth run --network`" + `:
bridge (the default: an address on the bridge berth0, outbound NAT, the
other bridge containers by name), host (the machine's own network) and
none (loopback only).

EXAMPLES:
   berth network ls -m dev
   berth network inspect bridge
   berth network inspect --format '{{range .IPAM.Config}}{{.Subnet}}{{end}}' bridge`,
		Subcommands: []*cli.Command{networkLsCommand(), networkInspectCommand()},
	}
}
