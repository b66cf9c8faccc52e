package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func portCommand() *cli.Command {
	return &cli.Command{
		Name:      "port",
		Usage:     "List a container's published ports",
		ArgsUsage: "CONTAINER [PRIVATE_PORT[/PROTO]]",
		Description: `Prints where each published port of CONTAINER is reached from this
computer, as docker port does: "80/tcp -> 127.0.0.1:8080".

EXAMPLES:
   berth port -m dev web
   berth port web 80/tcp`,
		Flags: []cli.Flag{machineFlag()},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return usagef("port needs a CONTAINER and at most one PRIVATE_PORT[/PROTO]")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return showPorts(ctx, api, c.Args().First(), c.Args().Get(1), d.stdout)
			})
		},
	}
}

// showPorts prints the bindings of container name, only those of filter
// ("80" or "80/udp") when it is not empty.
func showPorts(ctx context.Context, api *client.Client, name, filter string, out io.Writer) error {
	var want network.Port
	if filter != "" {
		p, err := network.ParsePort(filter)
		if err != nil {
			return usagef("invalid port %q: give PORT or PORT/tcp or PORT/udp", filter)
		}
		want = p
	}
	res, err := api.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	var lines []string
	if hc := res.Container.HostConfig; hc != nil {
		for p, bs := range hc.PortBindings {
			if want.IsValid() && p != want {
				continue
			}
			for _, b := range bs {
				ip := "0.0.0.0"
				if b.HostIP.IsValid() {
					ip = b.HostIP.String()
				}
				lines = append(lines, fmt.Sprintf("%s -> %s", p, net.JoinHostPort(ip, b.HostPort)))
			}
		}
	}
	if want.IsValid() && len(lines) == 0 {
		return fmt.Errorf("no public port %s published for %s", want, name)
	}
	sort.Strings(lines)
	if len(lines) > 0 {
		_, err = fmt.Fprintln(out, strings.Join(lines, "\n"))
	}
	return err
}
