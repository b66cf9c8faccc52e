package main

import (
	"context"
	"io"
	"os"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/berthvm/berth/internal/runspec"
)

type execOptions struct {
	Container string
	Args      []string
	Interact  bool
	TTY       bool
	Detach    bool
	Env       []string
	Workdir   string
	User      string
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "Run a command in a running container",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Description: `Runs COMMAND inside the running CONTAINER (its namespaces, cgroup, user
and capabilities) and exits with the command's exit code.

EXAMPLES:
   berth exec -m dev web ps
   berth exec -it web sh
   berth exec -u nobody -w /tmp -e DEBUG=1 web env`,
		Flags: []cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "send stdin to the command"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the command a terminal"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the command in the background"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (`NAME=VALUE`)"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working `DIR` inside the container"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as `USER` (name|uid[:group|gid])"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 2 {
				return usagef("exec needs a CONTAINER and a COMMAND")
			}
			opts := execOptions{Container: c.Args().First(), Args: c.Args().Tail(), Interact: c.Bool("interactive"), TTY: c.Bool("tty"),
				Detach: c.Bool("detach"), Env: c.StringSlice("env"), Workdir: c.String("workdir"), User: c.String("user")}
			return withAgent(c, func(ctx context.Context, d *deps, api *client.Client) error {
				return execInContainer(ctx, api, opts, d.stdin, d.stdout, d.stderr)
			})
		},
	}
}

func execInContainer(ctx context.Context, api *client.Client, opts execOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	env, err := runspec.ReadEnv(opts.Env, nil, os.LookupEnv)
	if err != nil {
		return err
	}
	created, err := api.ExecCreate(ctx, opts.Container, client.ExecCreateOptions{
		User: opts.User, TTY: opts.TTY, AttachStdin: opts.Interact && !opts.Detach,
		AttachStdout: !opts.Detach, AttachStderr: !opts.Detach, Env: env, WorkingDir: opts.Workdir, Cmd: opts.Args,
	})
	if err != nil {
		return exitWith(125, stderr, err)
	}
	if opts.Detach {
		_, err := api.ExecStart(ctx, created.ID, client.ExecStartOptions{Detach: true, TTY: opts.TTY})
		return err
	}
	var size client.ConsoleSize
	if f, ok := stdout.(*os.File); ok && opts.TTY && term.IsTerminal(int(f.Fd())) {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil {
			size = client.ConsoleSize{Height: uint(h), Width: uint(w)}
		}
	}
	res, err := api.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: opts.TTY, ConsoleSize: size})
	if err != nil {
		return exitWith(125, stderr, err)
	}
	defer res.Close()
	ctx = context.WithoutCancel(ctx)
	if opts.TTY {
		if in, ok := stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
			if st, err := term.MakeRaw(int(in.Fd())); err == nil {
				defer term.Restore(int(in.Fd()), st)
			}
		}
	}
	if opts.Interact && stdin != nil {
		go func() {
			io.Copy(res.Conn, stdin)
			res.CloseWrite()
		}()
	}
	if opts.TTY {
		io.Copy(stdout, res.Reader)
	} else {
		stdcopy.StdCopy(stdout, stderr, res.Reader)
	}
	st, err := api.ExecInspect(ctx, created.ID, client.ExecInspectOptions{})
	if err != nil {
		return err
	}
	if st.ExitCode != 0 {
		return exitStatus(st.ExitCode)
	}
	return nil
}
