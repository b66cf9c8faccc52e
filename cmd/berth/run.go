package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/forwards"
	"github.com/berthvm/berth/internal/runspec"
)

// runOptions are berth run's options; runspec turns them into the
// container's config.
type runOptions = runspec.Options

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "Run a command in a new container on a machine",
		ArgsUsage: "IMAGE [COMMAND] [ARG...]",
		Description: `Creates a container from IMAGE on the machine (pulling the image first
when the machine lacks it), starts it, streams its output and exits with
its exit code, like ` + "`docker run`" + `. Ctrl-C and other signals go to the
container's process.

Published ports (-p, -P) listen on 127.0.0.1 of this computer unless -p
names another address; the machine's driver forwards them to the machine
(QEMU host forwards, VirtualBox NAT rules named berth-*; generic hosts
publish on their own addresses). A host port another program holds is
refused, naming that program when the OS can tell (Linux). Forwards follow
the container: removed when it stops or is removed, added again when it
starts, and by ` + "`berth start`/`berth restart`" + ` of the machine for the
containers that come back (--restart always).

The image is the machine's platform (linux/amd64 or linux/arm64) unless
--platform names another one the machine runs: the 32-bit one of its CPU
(linux/386 on amd64), or one that binfmt_misc hands to an emulator on a
generic host. A platform it cannot run is refused, naming those it can.

EXAMPLES:
   berth run -m dev hello
   berth run --rm -it busybox sh
   berth run -d --name web --restart always busybox httpd -f
   berth run --rm -e NAME=x --memory 64m --pids-limit 50 busybox env
   berth run -d -p 8080:80 nginx      # then open http://127.0.0.1:8080/
   berth run -d -p 5353:53/udp --restart always my-dns
   berth run -d --name web -p 80 busybox httpd -f   # a free host port: berth port web
   berth run --rm busybox wget -qO- http://web/     # containers reach each other by name
   berth run --rm --network host busybox ls /sys/class/net   # the machine's interfaces
   berth run --rm --platform linux/386 busybox true   # busybox's 32-bit x86 image on an amd64 machine`,
		Flags: append([]cli.Flag{machineFlag(),
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run in the background and print the container ID"},
			&cli.BoolFlag{Name: "rm", Usage: "remove the container when it exits"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep stdin open and send it to the container"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "give the container a terminal"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set an environment variable (`NAME=VALUE`, or NAME to pass this one)"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "read environment variables from a `FILE`"},
			&cli.StringFlag{Name: "name", Usage: "name the container"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working `DIR` inside the container"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as `USER` (name|uid[:group|gid])"},
			&cli.StringFlag{Name: "entrypoint", Usage: "replace the image's entrypoint (\"\" clears it)"},
			&cli.StringFlag{Name: "hostname", Usage: "the container's host name"},
			&cli.StringSliceFlag{Name: "publish", Aliases: []string{"p"}, Usage: "publish a container port on this computer (`[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`)"},
			&cli.BoolFlag{Name: "publish-all", Aliases: []string{"P"}, Usage: "publish every port the image exposes on a free port"},
			&cli.StringSliceFlag{Name: "volume", Aliases: []string{"v"}, Usage: "mount a named volume or a machine folder (`NAME:/PATH`, /MACHINE/PATH:/PATH, :ro for read-only; /PATH alone: a new anonymous volume)"},
			&cli.StringSliceFlag{Name: "tmpfs", Usage: "mount a tmpfs on `PATH`"},
			&cli.BoolFlag{Name: "read-only", Usage: "make the container's root filesystem read-only"},
			&cli.StringFlag{Name: "network", Aliases: []string{"net"}, Usage: "connect the container to `NETWORK`: bridge (default: an address on the machine's bridge, outbound through NAT, other bridge containers by name), host (the machine's own network; -p is ignored) or none (loopback only)"},
			&cli.StringFlag{Name: "platform", Usage: "run the image's `OS/ARCH[/VARIANT]` variant (pulling it when the machine has another), where the machine can run it: linux/386 on amd64 machines, for example; default: the machine's"},
			&cli.StringSliceFlag{Name: "security-opt", Usage: "`OPTION`: no-new-privileges; seccomp=unconfined to run without Docker's default seccomp profile, or seccomp=FILE for a profile of your own (Docker's JSON format)"},
		}, limitFlags()...),
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return usagef("run needs an IMAGE (see `berth run --help`)")
			}
			opts := runOptions{
				Image: c.Args().First(), Args: c.Args().Tail(),
				Detach: c.Bool("detach"), Remove: c.Bool("rm"), Interact: c.Bool("interactive"), TTY: c.Bool("tty"),
				Env: c.StringSlice("env"), EnvFiles: c.StringSlice("env-file"), Name: c.String("name"),
				Workdir: c.String("workdir"), User: c.String("user"), Hostname: c.String("hostname"),
				Memory: c.String("memory"), CPUs: c.Float64("cpus"), PidsLimit: c.Int64("pids-limit"), Restart: c.String("restart"),
				Publish: c.StringSlice("publish"), PublishAll: c.Bool("publish-all"),
				Volumes: c.StringSlice("volume"), Tmpfs: c.StringSlice("tmpfs"), ReadOnly: c.Bool("read-only"),
				Network:  c.String("network"),
				Security: c.StringSlice("security-opt"),
				Platform: c.String("platform"),
			}
			if c.IsSet("entrypoint") {
				ep := c.String("entrypoint")
				opts.Entrypoint = &ep
			}
			return withAgentForwarder(c, func(ctx context.Context, d *deps, api *client.Client, pf drivers.PortForwarder) error {
				opts.Forwarder = pf
				return runContainer(ctx, api, opts, d.stdin, d.stdout, d.stderr)
			})
		},
	}
}

func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "memory", Usage: "memory limit (`BYTES`, e.g. 64m, 1g)"},
		&cli.Float64Flag{Name: "cpus", Usage: "CPU limit (`N` CPUs, e.g. 0.5)"},
		&cli.Int64Flag{Name: "pids-limit", Usage: "most processes the container may have (`N`)"},
		&cli.StringFlag{Name: "restart", Usage: "restart `POLICY`: no, on-failure[:N], always", Value: "no"},
	}
}

// runContainer is `berth run`: create (pulling a missing image), publish,
// attach, start, stream, wait, and return the container's exit code as an
// exitStatus error when it is not 0. ctx bounds the setup: when it ends
// before the container runs, run removes the container and returns ctx's
// error. Once the container runs, Ctrl-C goes to it and run ends when it
// does.
func runContainer(ctx context.Context, api *client.Client, opts runOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, hc, err := runspec.ContainerConfig(opts, os.LookupEnv)
	if errors.Is(err, runspec.ErrInvalid) {
		return &usageError{err}
	}
	if err != nil {
		return err
	}
	if opts.TTY {
		// The terminal's size goes with create, as docker run sends it, so
		// the process sees it from its first instruction (the resize after
		// start comes too late for a program that asks at once).
		hc.ConsoleSize = consoleSize(stdout)
	}
	r := &containerRun{api: api, opts: opts, stdin: stdin, stdout: stdout, stderr: stderr}
	if err := r.create(ctx, cfg, hc); err != nil {
		return err
	}
	if r.fwds, err = publishOnHost(ctx, api, r.id, opts); err != nil {
		return r.fail(ctx, 125, err, true)
	}
	if opts.Detach {
		if err := r.start(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, r.id)
		return nil
	}
	// The forwards live as long as this run does.
	defer forwards.Remove(ctx, opts.Forwarder, r.fwds)
	return r.runAttached(ctx)
}

// containerRun is one berth run: its options, the agent, the terminal,
// and what it has set up.
type containerRun struct {
	api            *client.Client
	opts           runOptions
	stdin          io.Reader
	stdout, stderr io.Writer

	id   string            // the container, once created
	fwds []drivers.Forward // its host forwards, once published
}

// consoleSize is the size of the terminal out is, as create takes it
// (height, width); zero when out is not a terminal.
func consoleSize(out io.Writer) [2]uint {
	if f, ok := out.(*os.File); ok {
		if w, h, err := term.GetSize(int(f.Fd())); err == nil && w > 0 && h > 0 {
			return [2]uint{uint(h), uint(w)}
		}
	}
	return [2]uint{}
}

// create creates the container. A missing image is pulled first, saying
// so like docker run; create's warnings are printed.
func (r *containerRun) create(ctx context.Context, cfg *ctypes.Config, hc *ctypes.HostConfig) error {
	var platform *ocispec.Platform
	if r.opts.Platform != "" {
		p, err := parsePlatform(r.opts.Platform)
		if err != nil {
			return err
		}
		platform = &p
	}
	create := func() (client.ContainerCreateResult, error) {
		return r.api.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: r.opts.Name, Platform: platform})
	}
	created, err := create()
	if cerrdefs.IsNotFound(err) {
		ref := r.opts.Image
		if !strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
			ref += ":latest"
		}
		fmt.Fprintf(r.stderr, "Unable to find image '%s' locally\n", ref)
		if err := pullImage(ctx, r.api, pullOptions{Ref: r.opts.Image, Platform: r.opts.Platform}, r.stderr); err != nil {
			return r.fail(ctx, 125, err, false)
		}
		created, err = create()
	}
	if err != nil {
		return r.fail(ctx, 125, err, false)
	}
	for _, w := range created.Warnings {
		fmt.Fprintf(r.stderr, "WARNING: %s\n", w)
	}
	r.id = created.ID
	return nil
}

// start starts the container. When it cannot, it takes back the forwards
// and, with --rm, the container.
func (r *containerRun) start(ctx context.Context) error {
	_, err := r.api.ContainerStart(ctx, r.id, client.ContainerStartOptions{})
	if err == nil {
		return nil
	}
	forwards.Remove(ctx, r.opts.Forwarder, r.fwds)
	return r.fail(ctx, startErrorCode(err), err, r.opts.Remove)
}

// runAttached starts the container attached to this terminal, streams
// until the container's output ends and returns its exit code.
func (r *containerRun) runAttached(ctx context.Context) error {
	var removed <-chan waited
	var waitSent chan struct{}
	if r.opts.Remove {
		// The agent removes the container: only a wait sent before start
		// is sure to see its exit code (docker run does the same). It
		// travels while the attach does; start waits for both.
		waitSent = make(chan struct{})
		wch := make(chan waited, 1)
		removed = wch
		go func() {
			w := r.api.ContainerWait(context.WithoutCancel(ctx), r.id, client.ContainerWaitOptions{Condition: ctypes.WaitConditionRemoved})
			close(waitSent) // the agent has answered the request: it waits
			wch <- <-waitResult(w)
		}()
	}
	res, err := r.api.ContainerAttach(ctx, r.id, client.ContainerAttachOptions{Stream: true, Stdin: r.opts.Interact, Stdout: true, Stderr: true})
	if waitSent != nil {
		<-waitSent
	}
	if err != nil {
		return r.fail(ctx, 125, err, false)
	}
	attached := &res.HijackedResponse
	defer attached.Close()
	if err := r.start(ctx); err != nil {
		return err
	}
	// From here Ctrl-C goes to the container (or through its terminal);
	// berth ends when the container does.
	ctx = context.WithoutCancel(ctx)

	restore := func() {}
	if r.opts.TTY {
		restore = rawTerminal(ctx, r.api, r.id, r.stdin, r.stdout)
	} else {
		stopProxy := proxySignals(ctx, r.api, r.id)
		defer stopProxy()
	}
	defer restore()
	r.copyStreams(attached)
	restore()
	// The stream ends when the container does: its state says how. Without
	// --rm the wait is sent only now (one connection at a time besides the
	// stream: each is an SSH session).
	if removed == nil {
		removed = waitResult(r.api.ContainerWait(ctx, r.id, client.ContainerWaitOptions{Condition: ctypes.WaitConditionNotRunning}))
	}
	return r.exitResult(ctx, <-removed)
}

// copyStreams copies the container's output to stdout (and stderr,
// without -t) until it ends, and with -i stdin to the container.
func (r *containerRun) copyStreams(attached *client.HijackedResponse) {
	if r.opts.Interact && r.stdin != nil {
		go func() {
			io.Copy(attached.Conn, r.stdin)
			attached.CloseWrite()
		}()
	}
	if r.opts.TTY {
		io.Copy(r.stdout, attached.Reader)
		return
	}
	stdcopy.StdCopy(r.stdout, r.stderr, attached.Reader)
}

// exitResult is run's result from how the wait for the container ended:
// the container's exit code (an exitStatus unless 0) or, when the wait
// failed, 125 (and a --rm container removed).
func (r *containerRun) exitResult(ctx context.Context, res waited) error {
	if res.Error != nil {
		if r.opts.Remove {
			r.remove(ctx)
		}
		return exitWith(125, r.stderr, fmt.Errorf("wait for container: %w", res.Error))
	}
	if res.Message != "" {
		fmt.Fprintln(r.stderr, "berth: "+res.Message)
	}
	if res.StatusCode != 0 {
		return exitStatus(res.StatusCode)
	}
	return nil
}

// fail ends a run whose container could not be set up, removing the
// container when remove is set. An interrupted run (ctx ended) removes it
// too and returns ctx's error, which main reports as an interrupt;
// otherwise err is printed like docker does and run exits with code.
func (r *containerRun) fail(ctx context.Context, code int, err error, remove bool) error {
	interrupted := ctx.Err() != nil
	if r.id != "" && (remove || interrupted) {
		r.remove(ctx)
	}
	if interrupted {
		return fmt.Errorf("run %s: %w", r.opts.Image, ctx.Err())
	}
	return exitWith(code, r.stderr, err)
}

// remove removes the container and its anonymous volumes, also when ctx
// has ended.
func (r *containerRun) remove(ctx context.Context) {
	r.api.ContainerRemove(context.WithoutCancel(ctx), r.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// waitResult turns a ContainerWait into one result: the exit code, the
// container's error message, or the error of the wait itself.
func waitResult(w client.ContainerWaitResult) <-chan waited {
	ch := make(chan waited, 1)
	go func() {
		select {
		case res := <-w.Result:
			out := waited{StatusCode: res.StatusCode}
			if res.Error != nil {
				out.Message = res.Error.Message
			}
			ch <- out
		case err := <-w.Error:
			ch <- waited{Error: err}
		}
	}()
	return ch
}

// waited is how a wait for a container ended.
type waited struct {
	StatusCode int64
	Message    string // the container's error, if any
	Error      error  // the wait failed
}

// publishOnHost checks that the host ports of the created container id
// are free on this computer and forwards them to the machine.
func publishOnHost(ctx context.Context, api *client.Client, id string, opts runOptions) ([]drivers.Forward, error) {
	if opts.Forwarder == nil || (len(opts.Publish) == 0 && !opts.PublishAll) {
		return nil, nil
	}
	fwds, err := forwards.OfContainer(ctx, api, id)
	if err != nil {
		return nil, fmt.Errorf("read the published ports: %w", err)
	}
	// Forwards of containers that exited on their own may hold the ports:
	// clean up first. Its errors concern other containers and ports; this
	// container's ports are checked below.
	forwards.Sync(ctx, api, opts.Forwarder)
	for _, f := range fwds {
		if err := forwards.HostPortFree(f); err != nil {
			return nil, err
		}
	}
	if err := forwards.Add(ctx, opts.Forwarder, fwds); err != nil {
		return nil, err
	}
	return fwds, nil
}

// exitWith prints err like docker does and exits with code.
func exitWith(code int, stderr io.Writer, err error) error {
	fmt.Fprintf(stderr, "berth: %v\n", err)
	return exitStatus(code)
}

// startErrorCode is docker's exit code for a start that failed: 127 when
// the command was not found, 126 when it could not be invoked, else 125.
func startErrorCode(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"):
		return 126
	}
	return 125
}

// rawTerminal puts the local terminal in raw mode, sizes the container's
// terminal like it and follows window changes. It returns the restore.
func rawTerminal(ctx context.Context, api *client.Client, id string, stdin io.Reader, stdout io.Writer) func() {
	restore := func() {}
	if in, ok := stdin.(*os.File); ok && term.IsTerminal(int(in.Fd())) {
		if st, err := term.MakeRaw(int(in.Fd())); err == nil {
			done := false
			restore = func() {
				if !done {
					term.Restore(int(in.Fd()), st)
					done = true
				}
			}
		}
	}
	out, ok := stdout.(*os.File)
	if !ok || !term.IsTerminal(int(out.Fd())) {
		return restore
	}
	resize := func() {
		w, h, err := term.GetSize(int(out.Fd()))
		if err == nil {
			api.ContainerResize(ctx, id, client.ContainerResizeOptions{Height: uint(h), Width: uint(w)})
		}
	}
	resize()
	winch := make(chan os.Signal, 1)
	notifyResize(winch)
	go func() {
		for range winch {
			resize()
		}
	}()
	return func() {
		signal.Stop(winch)
		restore()
	}
}

// proxySignals sends the signals berth receives to the container, as
// docker's --sig-proxy does. It returns the stop function.
func proxySignals(ctx context.Context, api *client.Client, id string) func() {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, proxiedSignals...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				if sig, ok := s.(syscall.Signal); ok {
					api.ContainerKill(context.WithoutCancel(ctx), id, client.ContainerKillOptions{Signal: fmt.Sprint(int(sig))})
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
