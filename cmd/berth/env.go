package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/shellenv"
)

type envOptions struct {
	Name    string // empty: the active machine
	Shell   string // empty: detected
	Unset   bool
	NoProxy bool
}

func envCommand() *cli.Command {
	return &cli.Command{
		Name:      "env",
		Usage:     "Print the commands that point docker and docker compose at a machine",
		ArgsUsage: "[NAME]",
		Description: `Prints the shell commands that set DOCKER_HOST to the machine's Docker
API endpoint on this computer (its host agent's socket; a named pipe on
Windows), DOCKER_MACHINE_NAME and BERTH_MACHINE, as docker-machine env
did. Run them through your shell; then docker, docker compose and berth's
own container commands use the machine. The shell is detected from $SHELL
(PowerShell or cmd on Windows); --shell picks one of: ` + strings.Join(shellenv.Shells, ", ") + `.

EXAMPLES:
   eval $(berth env dev)              # bash, zsh
   berth env dev | source             # fish
   & berth env dev | Invoke-Expression  # PowerShell
   eval $(berth env --unset)          # back to the local docker`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "shell", Usage: "the `SHELL` to print for: " + strings.Join(shellenv.Shells, ", ") + " (default: detected)"},
			&cli.BoolFlag{Name: "unset", Aliases: []string{"u"}, Usage: "print the commands that unset the variables instead"},
			&cli.BoolFlag{Name: "no-proxy", Usage: "add the machine's address to NO_PROXY"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			name, err := oneMachineArg(c)
			if err != nil {
				return err
			}
			return runEnv(c.Context, envOptions{Name: name, Shell: c.String("shell"), Unset: c.Bool("unset"), NoProxy: c.Bool("no-proxy")}, d)
		},
	}
}

// envVars are the variables env sets.
var envVars = []string{"DOCKER_HOST", "DOCKER_MACHINE_NAME", "BERTH_MACHINE"}

func runEnv(ctx context.Context, opts envOptions, d *deps) error {
	shell := opts.Shell
	if shell == "" {
		shell = shellenv.Detect(runtime.GOOS, d.getenv)
	} else if !shellenv.Valid(shell) {
		return usagef("unknown --shell %q: use one of %s", shell, strings.Join(shellenv.Shells, ", "))
	}
	self := "berth"
	if runtime.GOOS == "windows" {
		self = "berth.exe"
	}
	if opts.Unset {
		vars := make([]shellenv.Var, 0, len(envVars)+1)
		for _, n := range envVars {
			vars = append(vars, shellenv.Var{Name: n, Unset: true})
		}
		if opts.NoProxy {
			vars = append(vars, shellenv.Var{Name: "NO_PROXY", Unset: true})
		}
		return shellenv.Write(d.stdout, shell, vars, self+" env --unset")
	}
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	ep, err := d.ensureHostAgent(ctx, m)
	if err != nil {
		return err
	}
	vars := []shellenv.Var{
		{Name: "DOCKER_HOST", Value: ep},
		{Name: "DOCKER_MACHINE_NAME", Value: m.Name},
		{Name: "BERTH_MACHINE", Value: m.Name},
	}
	if opts.NoProxy {
		np, err := noProxy(ctx, d, m)
		if err != nil {
			return err
		}
		vars = append(vars, shellenv.Var{Name: "NO_PROXY", Value: np})
	}
	return shellenv.Write(d.stdout, shell, vars, self+" env "+m.Name)
}

// noProxy is $NO_PROXY (or $no_proxy) with the machine's address added,
// as docker-machine env --no-proxy does.
func noProxy(ctx context.Context, d *deps, m *machine.Machine) (string, error) {
	cur := d.getenv("NO_PROXY")
	if cur == "" {
		cur = d.getenv("no_proxy")
	}
	ep, err := m.Driver.SSHEndpoint(ctx)
	if err != nil {
		return "", fmt.Errorf("address of machine %q: %w", m.Name, err)
	}
	for _, h := range strings.Split(cur, ",") {
		if strings.TrimSpace(h) == ep.Host {
			return cur, nil
		}
	}
	if cur == "" {
		return ep.Host, nil
	}
	return cur + "," + ep.Host, nil
}
