package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/template"
	"time"

	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/forwards"
)

// containerCommand groups the container commands, as `docker container`
// does. start, stop, restart, kill, rm and inspect live only here: at the
// top level those words manage machines.
func containerCommand() *cli.Command {
	return &cli.Command{
		Name:  "container",
		Usage: "Manage the containers of a machine",
		Description: `EXAMPLES:
   berth container stop -m dev web
   berth container rm -f web
   berth container inspect --format '{{.State.Status}}' web`,
		Subcommands: []*cli.Command{
			runCommand(), psCommand(), logsCommand(), execCommand(), waitCommand(), portCommand(), attachCommand(),
			containerStartCommand(), containerStopCommand(), containerRestartCommand(),
			containerKillCommand(), containerRmCommand(), containerInspectCommand(),
		},
	}
}

// eachContainerForwarding is eachContainer for the commands that start
// or stop containers: afterwards the machine's host forwards are brought in
// line with its containers (see forwards.Sync), which removes those of the
// containers that stopped or went, and adds those of the ones that run.
func eachContainerForwarding(c *cli.Context, verb string, fn func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, name string) error) error {
	if c.NArg() < 1 {
		return usagef("%s needs at least one CONTAINER", verb)
	}
	return withAgentForwarder(c, func(ctx context.Context, d *deps, api *client.Client, pf drivers.PortForwarder) error {
		var errs []error
		for _, n := range c.Args().Slice() {
			if err := fn(ctx, api, pf, n); err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", verb, n, err))
				continue
			}
			fmt.Fprintln(d.stdout, n)
		}
		if _, _, err := forwards.Sync(ctx, api, pf); err != nil {
			errs = append(errs, fmt.Errorf("host forwards of published ports: %w", err))
		}
		return errors.Join(errs...)
	})
}

// startPublishing starts container n after forwarding its published ports
// that are not forwarded yet, so that a host port another program holds
// refuses the start, naming that program.
func startPublishing(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string, start func() error) error {
	if pf == nil {
		return start()
	}
	fwds, err := forwards.OfContainer(ctx, api, n)
	if err != nil {
		return err
	}
	var missing []drivers.Forward
	if len(fwds) > 0 {
		// Forwards of containers that exited on their own may hold the
		// ports (errors about other containers show after the loop).
		forwards.Sync(ctx, api, pf)
		have, err := pf.Forwards(ctx)
		if err != nil {
			return err
		}
		for _, f := range fwds {
			if !slices.Contains(have, f) {
				if err := forwards.HostPortFree(f); err != nil {
					return err
				}
				missing = append(missing, f)
			}
		}
	}
	if err := forwards.Add(ctx, pf, missing); err != nil {
		return err
	}
	if err := start(); err != nil {
		forwards.Remove(ctx, pf, missing)
		return err
	}
	return nil
}

// killSettle bounds the wait, after kill, for the container to end.
const killSettle = 3 * time.Second

func timeoutFlag() cli.Flag {
	return &cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: 10, Usage: "`SECONDS` to wait for the container to stop before killing it"}
}

func containerStartCommand() *cli.Command {
	return &cli.Command{
		Name: "start", Usage: "Start stopped containers", ArgsUsage: "CONTAINER...",
		Description: "EXAMPLES:\n   berth container start -m dev web",
		Flags:       []cli.Flag{machineFlag()},
		Action: func(c *cli.Context) error {
			return eachContainerForwarding(c, "start", func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string) error {
				return startPublishing(ctx, api, pf, n, func() error {
					_, err := api.ContainerStart(ctx, n, client.ContainerStartOptions{})
					return err
				})
			})
		},
	}
}

func containerStopCommand() *cli.Command {
	return &cli.Command{
		Name: "stop", Usage: "Stop containers (SIGTERM, then SIGKILL after -t seconds)", ArgsUsage: "CONTAINER...",
		Description: "EXAMPLES:\n   berth container stop -m dev -t 30 web",
		Flags:       []cli.Flag{machineFlag(), timeoutFlag(), &cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "`SIGNAL` to stop with (default SIGTERM)"}},
		Action: func(c *cli.Context) error {
			t := c.Int("time")
			return eachContainerForwarding(c, "stop", func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string) error {
				_, err := api.ContainerStop(ctx, n, client.ContainerStopOptions{Timeout: &t, Signal: c.String("signal")})
				return err
			})
		},
	}
}

func containerRestartCommand() *cli.Command {
	return &cli.Command{
		Name: "restart", Usage: "Stop then start containers", ArgsUsage: "CONTAINER...",
		Description: "EXAMPLES:\n   berth container restart -m dev web",
		Flags:       []cli.Flag{machineFlag(), timeoutFlag()},
		Action: func(c *cli.Context) error {
			t := c.Int("time")
			return eachContainerForwarding(c, "restart", func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string) error {
				return startPublishing(ctx, api, pf, n, func() error {
					_, err := api.ContainerRestart(ctx, n, client.ContainerRestartOptions{Timeout: &t})
					return err
				})
			})
		},
	}
}

func containerKillCommand() *cli.Command {
	return &cli.Command{
		Name: "kill", Usage: "Send a signal to containers (SIGKILL by default)", ArgsUsage: "CONTAINER...",
		Description: "EXAMPLES:\n   berth container kill -m dev web\n   berth container kill -s HUP web",
		Flags:       []cli.Flag{machineFlag(), &cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "`SIGNAL` to send"}},
		Action: func(c *cli.Context) error {
			return eachContainerForwarding(c, "kill", func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string) error {
				if _, err := api.ContainerKill(ctx, n, client.ContainerKillOptions{Signal: c.String("signal")}); err != nil {
					return err
				}
				if pf != nil {
					// The signal is sent, not yet acted on: give the container
					// a moment to end so that its forwards go with it. One
					// that handles the signal and runs on keeps them.
					wctx, cancel := context.WithTimeout(ctx, killSettle)
					defer cancel()
					w := api.ContainerWait(wctx, n, client.ContainerWaitOptions{Condition: ctypes.WaitConditionNotRunning})
					select {
					case <-w.Result:
					case <-w.Error:
					}
				}
				return nil
			})
		},
	}
}

func containerRmCommand() *cli.Command {
	return &cli.Command{
		Name: "rm", Usage: "Remove containers", ArgsUsage: "CONTAINER...",
		Description: "A running container is refused unless -f, which kills it first. Named\nvolumes stay; -v removes the anonymous ones (-v /PATH).\n\nEXAMPLES:\n   berth container rm -m dev web\n   berth container rm -fv web",
		Flags: []cli.Flag{machineFlag(), &cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill and remove running containers"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove the container's anonymous volumes too"}},
		Action: func(c *cli.Context) error {
			return eachContainerForwarding(c, "rm", func(ctx context.Context, api *client.Client, pf drivers.PortForwarder, n string) error {
				_, err := api.ContainerRemove(ctx, n, client.ContainerRemoveOptions{Force: c.Bool("force"), RemoveVolumes: c.Bool("volumes")})
				return err
			})
		},
	}
}

func containerInspectCommand() *cli.Command {
	return &cli.Command{
		Name: "inspect", Usage: "Show containers' configuration and state as JSON", ArgsUsage: "CONTAINER...",
		Description: "EXAMPLES:\n   berth container inspect -m dev web\n   berth container inspect --format '{{.State.ExitCode}}' job",
		Flags:       []cli.Flag{machineFlag(), &cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "print with a Go `TEMPLATE`"}},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("inspect needs at least one CONTAINER")
			}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return inspectContainers(ctx, api, c.Args().Slice(), c.String("format"), d.stdout)
			})
		},
	}
}

func inspectContainers(ctx context.Context, api *client.Client, names []string, format string, out io.Writer) error {
	var tmpl *template.Template
	if format != "" {
		var err error
		if tmpl, err = template.New("format").Parse(format); err != nil {
			return usagef("invalid --format: %v", err)
		}
	}
	var all []json.RawMessage
	for _, n := range names {
		res, err := api.ContainerInspect(ctx, n, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		if tmpl != nil {
			if err := tmpl.Execute(out, res.Container); err != nil {
				return fmt.Errorf("format %s: %w", n, err)
			}
			fmt.Fprintln(out)
			continue
		}
		all = append(all, res.Raw)
	}
	if tmpl != nil {
		return nil
	}
	b, err := json.MarshalIndent(all, "", "    ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}
