package main

import (
	"context"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/sshutil"
)

type sshOptions struct {
	Name    string   // empty: the active machine
	Command []string // empty: an interactive shell
	TTY     bool     // a PTY for Command too, when stdin is a terminal
}

func sshCommand() *cli.Command {
	return &cli.Command{
		Name:      "ssh",
		Usage:     "Log in to a machine, or run a command in it",
		ArgsUsage: "[NAME] [-- COMMAND [ARG...]]",
		Description: `Without a command, starts a login shell in the machine; when stdin is a
terminal the shell gets a terminal of its own (PTY) that follows the size
of yours. With a command, runs it and exits with its exit code; stdin,
stdout and stderr pass through. One argument is a command line for the
machine's shell, as with ssh; several keep their boundaries, as with
docker exec (each is quoted for the remote shell).

The host key the machine offered the first time is pinned in its folder;
a different key is refused (see ` + "`berth regenerate-host-key`" + `).
Without NAME, uses the active machine (see ` + "`berth active`" + `).

EXAMPLES:
   berth ssh dev
   berth ssh dev -- uname -a
   berth ssh dev -- 'cat /etc/os-release | grep VERSION'
   berth ssh dev -- sh -c 'exit 7'; echo $?     # 7
   tar c src | berth ssh dev -- tar x -C /var/lib/berth
   berth ssh -t dev -- top`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give COMMAND a terminal (PTY) when stdin is one"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			opts := sshOptions{TTY: c.Bool("tty")}
			if args := c.Args().Slice(); len(args) > 0 {
				opts.Name, opts.Command = args[0], args[1:]
				if len(opts.Command) > 0 && opts.Command[0] == "--" {
					opts.Command = opts.Command[1:]
				}
			}
			return runSSH(c.Context, opts, d)
		},
	}
}

// runSSH returns *sshutil.ExitError when the remote command or shell ends
// with a non-zero status; main exits with that status.
func runSSH(ctx context.Context, opts sshOptions, d *deps) error {
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	client, err := bootstrap.DialSSH(ctx, m)
	if err != nil {
		return err
	}
	defer client.Close()
	cmd := sshutil.CommandLine(opts.Command)
	if cmd != "" && !opts.TTY {
		return client.Run(ctx, cmd, sshutil.IO{Stdin: d.stdin, Stdout: d.stdout, Stderr: d.stderr})
	}
	return client.Shell(ctx, sshutil.ShellOptions{Command: cmd, Stdin: d.stdin, Stdout: d.stdout, Stderr: d.stderr})
}
