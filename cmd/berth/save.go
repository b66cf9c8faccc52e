package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/moby/moby/client"
	"github.com/urfave/cli/v2"
)

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:  "save",
		Usage: "Save images of a machine to a tarball that docker load reads",
		Description: `The tarball is both a docker-save archive and an OCI image layout.

EXAMPLES:
   berth save -o busybox.tar busybox
   berth save -m dev app:1 app:2 | docker load`,
		ArgsUsage: "IMAGE...",
		Flags: []cli.Flag{
			machineFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usagef("save needs at least one image")
			}
			return withAgent(c, func(ctx context.Context, d *deps, cli *client.Client) error {
				if p := c.String("output"); p != "" {
					return saveToFile(ctx, cli, c.Args().Slice(), p)
				}
				if isTerminal(d.stdout) {
					return usagef("save writes a tarball, and standard output is a terminal: use -o FILE or a pipe")
				}
				return saveImages(ctx, cli, c.Args().Slice(), d.stdout)
			})
		},
	}
}

// saveToFile writes the tarball to a temp file next to path and renames
// it, so a failed save leaves no half tarball.
func saveToFile(ctx context.Context, cli *client.Client, names []string, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer os.Remove(f.Name())
	if err := saveImages(ctx, cli, names, f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}

// saveImages writes the named images as one tarball to out.
func saveImages(ctx context.Context, cli *client.Client, names []string, out io.Writer) error {
	resp, err := cli.ImageSave(ctx, names)
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	defer resp.Close()
	if _, err := io.Copy(out, resp); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return nil
}
