package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/go-units"
	"github.com/moby/moby/api/pkg/stdcopy"
	ctypes "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/berthvm/berth/drivers"
	"github.com/berthvm/berth/internal/forwards"
)

type runOptions struct {
	Image      string
	Args       []string
	Detach     bool
	Remove     bool
	Interact   bool
	TTY        bool
	Env        []string
	EnvFiles   []string
	Name       string
	Workdir    string
	User       string
	Entrypoint *string
	Hostname   string
	Memory     string
	CPUs       float64
	PidsLimit  int64
	Restart    string
	Publish    []string // -p values
	PublishAll bool     // -P
	Volumes    []string // -v NAME:/path, /machine/path:/path[:ro] or /path (anonymous)
	Tmpfs      []string // --tmpfs /path
	ReadOnly   bool     // --read-only
	Network    string   // --network bridge|host|none; "" is the agent's default (bridge)
	Security   []string // --security-opt: no-new-privileges, seccomp=unconfined
	// Forwarder adds the host forwards of published ports; nil when the
	// machine needs none.
	Forwarder drivers.PortForwarder
}

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

EXAMPLES:
   berth run -m dev hello
   berth run --rm -it busybox sh
   berth run -d --name web --restart always busybox httpd -f
   berth run --rm -e NAME=x --memory 64m --pids-limit 50 busybox env
   berth run -d -p 8080:80 nginx      # then open http://127.0.0.1:8080/
   berth run -d -p 5353:53/udp --restart always my-dns
   berth run -d --name web -p 80 busybox httpd -f   # a free host port: berth port web
   berth run --rm busybox wget -qO- http://web/     # containers reach each other by name
   berth run --rm --network host busybox ls /sys/class/net   # the machine's interfaces`,
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

// containerConfig turns run's options into the API's create request.
func containerConfig(opts runOptions, getenv func(string) (string, bool)) (*ctypes.Config, *ctypes.HostConfig, error) {
	env, err := readEnv(opts.Env, opts.EnvFiles, getenv)
	if err != nil {
		return nil, nil, err
	}
	cfg := &ctypes.Config{
		Image: opts.Image, Cmd: opts.Args, Env: env, WorkingDir: opts.Workdir, User: opts.User,
		Hostname: opts.Hostname, Tty: opts.TTY, OpenStdin: opts.Interact, StdinOnce: opts.Interact && !opts.Detach,
		AttachStdin: opts.Interact && !opts.Detach, AttachStdout: !opts.Detach, AttachStderr: !opts.Detach,
	}
	if opts.Entrypoint != nil {
		cfg.Entrypoint = []string{*opts.Entrypoint}
	}
	// The agent removes a --rm container when it exits, also when this
	// berth is gone by then (killed, or the connection lost).
	hc := &ctypes.HostConfig{AutoRemove: opts.Remove, NetworkMode: "default", PublishAllPorts: opts.PublishAll}
	switch opts.Network {
	case "":
	case "bridge", "host", "none":
		hc.NetworkMode = ctypes.NetworkMode(opts.Network)
	default:
		return nil, nil, usagef("--network %q: use bridge, host or none", opts.Network)
	}
	exposed, bindings, err := portBindings(opts.Publish)
	if err != nil {
		return nil, nil, err
	}
	if len(bindings) > 0 {
		cfg.ExposedPorts, hc.PortBindings = exposed, bindings
	}
	hc.ReadonlyRootfs = opts.ReadOnly
	if hc.SecurityOpt, err = securityOpts(opts.Security); err != nil {
		return nil, nil, err
	}
	for _, v := range opts.Volumes {
		if strings.HasPrefix(v, "/") && !strings.Contains(v, ":") {
			// -v /PATH: a new anonymous volume, as docker run sends it.
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			cfg.Volumes[v] = struct{}{}
			continue
		}
		hc.Binds = append(hc.Binds, v)
	}
	for _, t := range opts.Tmpfs {
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		target, o, _ := strings.Cut(t, ":")
		hc.Tmpfs[target] = o
	}
	if opts.Memory != "" {
		n, err := units.RAMInBytes(opts.Memory)
		if err != nil || n <= 0 {
			return nil, nil, usagef("invalid --memory %q: give bytes like 64m or 1g", opts.Memory)
		}
		hc.Memory = n
	}
	if opts.CPUs < 0 {
		return nil, nil, usagef("invalid --cpus %v: must be positive", opts.CPUs)
	}
	hc.NanoCPUs = int64(opts.CPUs * 1e9)
	if opts.PidsLimit != 0 {
		hc.PidsLimit = &opts.PidsLimit
	}
	policy, max, _ := strings.Cut(opts.Restart, ":")
	switch policy {
	case "", "no", "always", "unless-stopped", "on-failure":
	default:
		return nil, nil, usagef("invalid --restart %q: use no, on-failure[:N] or always", opts.Restart)
	}
	hc.RestartPolicy.Name = ctypes.RestartPolicyMode(policy)
	if max != "" {
		if _, err := fmt.Sscanf(max, "%d", &hc.RestartPolicy.MaximumRetryCount); err != nil || policy != "on-failure" {
			return nil, nil, usagef("invalid --restart %q: only on-failure takes a count", opts.Restart)
		}
	}
	if opts.Remove && policy != "" && policy != "no" {
		return nil, nil, usagef("--rm and --restart %s conflict", policy)
	}
	return cfg, hc, nil
}

// securityOpts are the --security-opt values as the API takes them: like
// the docker CLI, seccomp=FILE sends the profile's JSON, compacted.
func securityOpts(opts []string) ([]string, error) {
	var out []string
	for _, o := range opts {
		if file, ok := strings.CutPrefix(o, "seccomp="); ok && file != "unconfined" {
			b, err := os.ReadFile(file)
			if err != nil {
				return nil, usagef("--security-opt seccomp: read the profile: %v", err)
			}
			var buf bytes.Buffer
			if err := json.Compact(&buf, b); err != nil {
				return nil, usagef("--security-opt seccomp: %s is not JSON: %v", file, err)
			}
			o = "seccomp=" + buf.String()
		}
		out = append(out, o)
	}
	return out, nil
}

// readEnv merges --env-file files then -e values; NAME alone takes this
// process's value and is dropped when unset, like docker.
func readEnv(env, files []string, getenv func(string) (string, bool)) ([]string, error) {
	var out []string
	add := func(kv string) {
		if !strings.Contains(kv, "=") {
			v, ok := getenv(kv)
			if !ok {
				return
			}
			kv += "=" + v
		}
		out = append(out, kv)
	}
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return nil, fmt.Errorf("read env file: %w", err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			add(line)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read env file %s: %w", f, err)
		}
	}
	for _, kv := range env {
		add(kv)
	}
	return out, nil
}

// runContainer is `berth run`: create (pulling a missing image), attach,
// wait, start, stream, and return the container's exit code as an
// exitStatus error when it is not 0.
func runContainer(ctx context.Context, api *client.Client, opts runOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, hc, err := containerConfig(opts, os.LookupEnv)
	if err != nil {
		return err
	}
	if out, ok := stdout.(*os.File); ok && opts.TTY {
		// The terminal's size goes with create, as docker run sends it, so
		// the process sees it from its first instruction (the resize after
		// start comes too late for a program that asks at once).
		if w, h, err := term.GetSize(int(out.Fd())); err == nil && w > 0 && h > 0 {
			hc.ConsoleSize = [2]uint{uint(h), uint(w)}
		}
	}
	if opts.Forwarder != nil {
		// Forwards listen on 127.0.0.1 of this computer unless -p names
		// another address.
		for p, bs := range hc.PortBindings {
			for i := range bs {
				if !bs[i].HostIP.IsValid() {
					bs[i].HostIP = netip.MustParseAddr("127.0.0.1")
				}
			}
			hc.PortBindings[p] = bs
		}
	}
	create := func() (client.ContainerCreateResult, error) {
		return api.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: opts.Name})
	}
	created, err := create()
	if cerrdefs.IsNotFound(err) {
		ref := opts.Image
		if !strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
			ref += ":latest"
		}
		fmt.Fprintf(stderr, "Unable to find image '%s' locally\n", ref)
		if err := pullImage(ctx, api, pullOptions{Ref: opts.Image}, stderr); err != nil {
			return exitWith(125, stderr, err)
		}
		created, err = create()
	}
	if err != nil {
		return exitWith(125, stderr, err)
	}
	for _, w := range created.Warnings {
		fmt.Fprintf(stderr, "WARNING: %s\n", w)
	}
	id := created.ID
	fwds, err := publishOnHost(ctx, api, id, opts)
	if err != nil {
		api.ContainerRemove(context.WithoutCancel(ctx), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		return exitWith(125, stderr, err)
	}
	if !opts.Detach {
		// The forwards live as long as this run does.
		defer forwards.Remove(ctx, opts.Forwarder, fwds)
	}

	var attached *client.HijackedResponse
	if !opts.Detach {
		res, err := api.ContainerAttach(ctx, id, client.ContainerAttachOptions{Stream: true, Stdin: opts.Interact, Stdout: true, Stderr: true})
		if err != nil {
			return exitWith(125, stderr, err)
		}
		attached = &res.HijackedResponse
		defer attached.Close()
	}
	var removed <-chan waited
	if opts.Remove && !opts.Detach {
		// The agent removes the container: only a wait sent before start
		// is sure to see its exit code (docker run does the same).
		w := api.ContainerWait(context.WithoutCancel(ctx), id, client.ContainerWaitOptions{Condition: ctypes.WaitConditionRemoved})
		removed = waitResult(w)
	}
	if _, err := api.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		forwards.Remove(ctx, opts.Forwarder, fwds)
		if opts.Remove {
			api.ContainerRemove(context.WithoutCancel(ctx), id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		}
		return exitWith(startErrorCode(err), stderr, err)
	}
	if opts.Detach {
		fmt.Fprintln(stdout, id)
		return nil
	}
	// From here Ctrl-C goes to the container (or through its terminal);
	// berth ends when the container does.
	ctx = context.WithoutCancel(ctx)

	restore := func() {}
	if opts.TTY {
		restore = rawTerminal(ctx, api, id, stdin, stdout)
	} else {
		stopProxy := proxySignals(ctx, api, id)
		defer stopProxy()
	}
	defer restore()

	outDone := make(chan error, 1)
	go func() {
		var err error
		if opts.TTY {
			_, err = io.Copy(stdout, attached.Reader)
		} else {
			_, err = stdcopy.StdCopy(stdout, stderr, attached.Reader)
		}
		outDone <- err
	}()
	if opts.Interact && stdin != nil {
		go func() {
			io.Copy(attached.Conn, stdin)
			attached.CloseWrite()
		}()
	}
	<-outDone
	restore()
	// The stream ends when the container does: its state says how. Without
	// --rm the wait is sent only now (one connection at a time besides the
	// stream: each is an SSH session).
	if removed == nil {
		removed = waitResult(api.ContainerWait(ctx, id, client.ContainerWaitOptions{Condition: ctypes.WaitConditionNotRunning}))
	}
	res := <-removed
	if res.Error != nil {
		if opts.Remove {
			api.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		}
		return exitWith(125, stderr, fmt.Errorf("wait for container: %w", res.Error))
	}
	if res.Message != "" {
		fmt.Fprintln(stderr, "berth: "+res.Message)
	}
	code := res.StatusCode
	if code != 0 {
		return exitStatus(code)
	}
	return nil
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
