// Command berth manages named Linux VMs ("machines") and runs containers
// in them.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/internal/version"
	"github.com/berthvm/berth/sshutil"
)

// commands lists every berth command, one constructor per file. Adding a
// command is one line here.
var commands = []func() *cli.Command{
	createCommand,
	lsCommand,
	inspectCommand,
	statusCommand,
	rmCommand,
	startCommand,
	stopCommand,
	restartCommand,
	killCommand,
	ipCommand,
	sshCommand,
	scpCommand,
	sshConfigCommand,
	regenerateHostKeyCommand,
	activeCommand,
	versionCommand,
	completionCommand,
	provisionCommand,
	upgradeCommand,
	pullCommand,
	loadCommand,
	buildCommand,
	saveCommand,
	imagesCommand,
	rmiCommand,
	tagCommand,
	runCommand,
	psCommand,
	logsCommand,
	execCommand,
	waitCommand,
	portCommand,
	attachCommand,
	containerCommand,
	volumeCommand,
	networkCommand,
	envCommand,
	upCommand,
	downCommand,
	planCommand,
	lockCommand,
	urlCommand,
	hostAgentCommand,
}

// The exit codes, documented in `berth --help`.
const (
	exitError       = 1
	exitUsage       = 2
	exitPreCreate   = 3
	exitNotFound    = 4
	exitInterrupted = 130
)

const exitCodesHelp = `Machines live in ~/.berth (or $BERTH_HOME, or --storage-path).

EXIT CODES:
   0    success
   1    error
   2    usage or bad input (a flag, a machine name, no machine named)
   3    pre-create check failed (the host cannot create this machine)
   4    machine not found
   N    berth ssh NAME -- COMMAND exits with COMMAND's exit code
   N    berth run, exec and wait exit with the container's exit code
        (125: the container could not be set up, 126: its command could
        not be invoked, 127: its command was not found)
   130  interrupted (Ctrl-C); a create in progress is rolled back`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newApp(os.Stdin, os.Stdout, os.Stderr).RunContext(ctx, os.Args)
	stop()
	if err != nil {
		code, msg := exitCode(err)
		if msg != "" {
			fmt.Fprintln(os.Stderr, "berth: "+msg)
		}
		os.Exit(code)
	}
}

// exitCode is the one place that maps errors to exit codes and messages.
// An empty message prints nothing.
func exitCode(err error) (int, string) {
	var ue *usageError
	var remote *sshutil.ExitError
	var status exitStatus
	switch {
	case errors.As(err, &status):
		// run, exec and wait exit like the container's process, silently.
		return status.ExitCode(), ""
	case errors.As(err, &remote):
		// `berth ssh` exits like the remote command, silently, as ssh does.
		return remote.ExitCode(), ""
	case errors.Is(err, context.Canceled):
		return exitInterrupted, "interrupted: " + err.Error()
	case errors.As(err, &ue), errors.Is(err, machine.ErrInvalidName), errors.Is(err, machine.ErrNoActive):
		return exitUsage, err.Error()
	case errors.Is(err, drivers.ErrPreCreate):
		return exitPreCreate, err.Error()
	case errors.Is(err, machine.ErrNotFound):
		return exitNotFound, err.Error()
	}
	return exitError, err.Error()
}

// usageError is a command used wrongly (exit code 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef makes a usageError.
func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

func newApp(stdin io.Reader, stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "berth",
		Usage:                "Linux machines for running containers on macOS, Windows and Linux",
		Description:          exitCodesHelp,
		Version:              version.Version,
		HideVersion:          true, // the version command says more
		EnableBashCompletion: true,
		Reader:               stdin,
		Writer:               stdout,
		ErrWriter:            stderr,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:    "storage-path",
				Aliases: []string{"s"},
				Usage:   "the folder that holds berth's machines and cache (default: ~/.berth)",
				EnvVars: []string{"BERTH_HOME"},
			},
			&cli.BoolFlag{Name: "debug", Usage: "log what berth does, for bug reports", EnvVars: []string{"BERTH_DEBUG"}},
		},
		Before: func(c *cli.Context) error {
			level := slog.LevelWarn
			if c.Bool("debug") {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level})))
			return nil
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("unknown command %q (see `berth --help`)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // main exits, nowhere else
		OnUsageError:   onUsageError,
	}
	for _, mk := range commands {
		cmd := mk()
		setUsageHandler(cmd)
		app.Commands = append(app.Commands, cmd)
	}
	return app
}

func onUsageError(c *cli.Context, err error, _ bool) error {
	return &usageError{err}
}

func setUsageHandler(cmd *cli.Command) {
	cmd.OnUsageError = onUsageError
	for _, sub := range cmd.Subcommands {
		setUsageHandler(sub)
	}
}
