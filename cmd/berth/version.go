package main

import (
	"fmt"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/version"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Print berth's version",
		Description: `EXAMPLES:
   berth version`,
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintf(c.App.Writer, "berth %s (%s, %s/%s)\n", version.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
