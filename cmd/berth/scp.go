package main

import (
	"context"
	"fmt"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/internal/machine"
	"github.com/berthvm/berth/sshutil"
)

type scpOptions struct {
	Sources   []string // [MACHINE:]PATH
	Dest      string   // [MACHINE:]PATH
	Recursive bool
}

func scpCommand() *cli.Command {
	return &cli.Command{
		Name:      "scp",
		Usage:     "Copy files between this computer and machines, or between machines",
		ArgsUsage: "[-r] [[MACHINE:]PATH]... [MACHINE:]PATH",
		Description: `Copies each source to the destination over SFTP, the way scp does:
MACHINE:PATH names a file in a machine (a relative PATH starts in the
login user's home, "dev:" is the home itself), a PATH without a machine
is on this computer. When the destination is an existing folder the
copies land inside it; with several sources it must be one. Folders need
-r. Files keep their permission bits, symlinks are followed, and each
file is written to a temporary name and renamed, so that no one sees it
half copied. A colon after a slash belongs to a local path (./a:b).

EXAMPLES:
   berth scp ./app.tar dev:/tmp/
   berth scp dev:/etc/os-release .
   berth scp -r ./site dev:/srv/
   berth scp dev:/var/log/agent.log web:/tmp/dev-agent.log`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "recursive", Aliases: []string{"r"}, Usage: "copy folders and what they hold"},
		},
		Action: func(c *cli.Context) error {
			d, err := depsFrom(c)
			if err != nil {
				return err
			}
			args := c.Args().Slice()
			if len(args) < 2 {
				return usagef("scp needs a source and a destination, got %d arguments", len(args))
			}
			return runSCP(c.Context, scpOptions{Sources: args[:len(args)-1], Dest: args[len(args)-1], Recursive: c.Bool("recursive")}, d)
		},
	}
}

// scpPath is one argument of scp: a path on this computer (Machine "") or
// in a machine.
type scpPath struct {
	Machine string
	Path    string
}

// parseSCPPath splits MACHINE:PATH. A path whose first colon comes after a
// slash, or (on Windows) a drive letter, is local.
func parseSCPPath(arg string, goos string) (scpPath, error) {
	name, path, found := strings.Cut(arg, ":")
	if !found || strings.ContainsAny(name, `/\`) {
		return scpPath{Path: arg}, nil
	}
	if goos == "windows" && len(name) == 1 && (path == "" || path[0] == '\\' || path[0] == '/') {
		return scpPath{Path: arg}, nil
	}
	if name == "" {
		return scpPath{}, usagef("scp: %q has a colon but no machine name before it (write ./%s for a local file)", arg, arg)
	}
	if err := machine.ValidateName(name); err != nil {
		return scpPath{}, fmt.Errorf("scp: %q: %w", arg, err)
	}
	if path == "" {
		path = "."
	}
	return scpPath{Machine: name, Path: path}, nil
}

func runSCP(ctx context.Context, opts scpOptions, d *deps) error {
	var srcs []scpPath
	for _, a := range opts.Sources {
		p, err := parseSCPPath(a, runtime.GOOS)
		if err != nil {
			return err
		}
		srcs = append(srcs, p)
	}
	dst, err := parseSCPPath(opts.Dest, runtime.GOOS)
	if err != nil {
		return err
	}

	// One connection per machine, shared by all its copies.
	fss := map[string]sshutil.FS{"": sshutil.LocalFS{}}
	for _, p := range append(srcs, dst) {
		if _, ok := fss[p.Machine]; ok {
			continue
		}
		m, err := d.store.Load(p.Machine)
		if err != nil {
			return err
		}
		client, err := bootstrap.DialSSH(ctx, m)
		if err != nil {
			return err
		}
		defer client.Close()
		rfs, err := client.FS(ctx, p.Machine)
		if err != nil {
			return err
		}
		fss[p.Machine] = rfs
	}

	to := fss[dst.Machine]
	if len(srcs) > 1 {
		if st, err := to.Stat(dst.Path); err != nil || !st.IsDir() {
			return usagef("scp: copying %d sources needs an existing folder as the destination, and %s is not one", len(srcs), opts.Dest)
		}
	}
	for _, src := range srcs {
		if err := sshutil.Copy(ctx, fss[src.Machine], src.Path, to, dst.Path, opts.Recursive); err != nil {
			return err
		}
	}
	return nil
}
