package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/moby/moby/api/pkg/stdcopy"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

type attachOptions struct {
	Container string
	NoStdin   bool
	Logs      bool // replay the log before the live output
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "Connect this terminal to a running container",
		ArgsUsage: "CONTAINER",
		Description: `Streams the container's output here and, when it was started with -i,
sends this terminal's input to it; exits with the container's exit code
when it ends. Ctrl-C and other signals go to the container, as with run.
--logs first prints what the container wrote so far.

EXAMPLES:
   berth run -d -it --name shell busybox sh
   berth attach shell
   berth attach -m dev --logs --no-stdin web`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not send this terminal's input"},
			&cli.BoolFlag{Name: "logs", Usage: "print the container's output so far first"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usagef("attach needs one CONTAINER")
			}
			opts := attachOptions{Container: c.Args().First(), NoStdin: c.Bool("no-stdin"), Logs: c.Bool("logs")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return attachContainer(ctx, api, opts, d.stdin, d.stdout, d.stderr)
			})
		},
	}
}

// errNotRunning is docker attach's refusal of a container that is not
// running.
var errNotRunning = errors.New("you cannot attach to a stopped container, start it first")

// attachContainer is `berth attach`: stream the container's stdio until it
// ends and return its exit code as an exitStatus error when not 0.
func attachContainer(ctx context.Context, api *client.Client, opts attachOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	insp, err := api.ContainerInspect(ctx, opts.Container, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	c := insp.Container
	if c.State == nil || !c.State.Running {
		return fmt.Errorf("attach %s: %w", opts.Container, errNotRunning)
	}
	tty := c.Config != nil && c.Config.Tty
	withStdin := !opts.NoStdin && c.Config != nil && c.Config.OpenStdin
	res, err := api.ContainerAttach(ctx, c.ID, client.ContainerAttachOptions{Stream: true, Logs: opts.Logs, Stdin: withStdin, Stdout: true, Stderr: true})
	if err != nil {
		return fmt.Errorf("attach %s: %w", opts.Container, err)
	}
	attached := res.HijackedResponse
	defer attached.Close()
	ctx = context.WithoutCancel(ctx)
	restore := func() {}
	if tty {
		restore = rawTerminal(ctx, api, c.ID, stdin, stdout)
	} else {
		stop := proxySignals(ctx, api, c.ID)
		defer stop()
	}
	defer restore()
	if withStdin && stdin != nil {
		go func() {
			io.Copy(attached.Conn, stdin)
			attached.CloseWrite()
		}()
	}
	if tty {
		_, err = io.Copy(stdout, attached.Reader)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, attached.Reader)
	}
	restore()
	if err != nil {
		return fmt.Errorf("attach %s: %w", opts.Container, err)
	}
	w := <-waitResult(api.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: ctypes.WaitConditionNotRunning}))
	switch {
	case w.Error != nil:
		return fmt.Errorf("wait for container %s: %w", opts.Container, w.Error)
	case w.StatusCode != 0:
		return exitStatus(w.StatusCode)
	}
	return nil
}
