package main

import "github.com/urfave/cli/v2"

// volumeCommand groups the volume commands, as `docker volume` does.
func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "Manage the named volumes of a machine",
		Description: `Named volumes keep data on the machine beyond the life of a container:
mount one with ` + "`berth run -v NAME:/PATH`" + ` (made when missing).

EXAMPLES:
   berth volume create -m dev data
   berth run -m dev --rm -v data:/data busybox sh -c 'echo hi > /data/f'
   berth volume ls
   berth volume rm data`,
		Subcommands: []*cli.Command{
			volumeCreateCommand(), volumeLsCommand(), volumeInspectCommand(), volumeRmCommand(), volumePruneCommand(),
		},
	}
}
