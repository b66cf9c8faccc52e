package main

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthvm/berth/internal/bootstrap"
	"github.com/berthvm/berth/sshutil"
)

type sshConfigOptions struct {
	Name string // empty: the active machine
}

func sshConfigCommand() *cli.Command {
	return &cli.Command{
		Name:      "ssh-config",
		Usage:     "Print an OpenSSH config block for a machine",
		ArgsUsage: "[NAME]",
		Description: `Prints a Host block for ~/.ssh/config, so that plain ssh, scp, rsync
and editors' remote modes reach the machine with its key and its pinned
host key (StrictHostKeyChecking yes: a changed host key is refused, as by
berth). When berth has not talked to the machine yet it connects once to
pin the host key. A QEMU machine's port can change when it restarts:
print the block again then.

EXAMPLES:
   berth ssh-config dev >> ~/.ssh/config && ssh dev
   rsync -a ./site/ dev:/srv/site/
   ssh -F <(berth ssh-config dev) dev uname -a`,
		Action: onOneMachine(func(ctx context.Context, d *deps, name string) error {
			return runSSHConfig(ctx, sshConfigOptions{Name: name}, d)
		}),
	}
}

func runSSHConfig(ctx context.Context, opts sshConfigOptions, d *deps) error {
	m, err := d.loadTarget(opts.Name)
	if err != nil {
		return err
	}
	name := m.Name
	t, err := bootstrap.SSHTarget(ctx, m)
	if err != nil {
		return err
	}
	if keys, err := t.HostKeys.Pinned(); err != nil || len(keys) == 0 {
		// Nothing pinned yet: plain ssh with StrictHostKeyChecking would
		// refuse the machine, so pin its key now.
		c, err := sshutil.Dial(ctx, t)
		if err != nil {
			return fmt.Errorf("pin the host key of machine %q: %w", name, err)
		}
		c.Close()
	}
	host, port, err := net.SplitHostPort(t.Addr)
	if err != nil {
		return fmt.Errorf("ssh-config of machine %q: %w", name, err)
	}
	_, err = fmt.Fprint(d.stdout, sshConfigBlock(name, host, port, t.User, absPath(t.Key.Path), absPath(t.HostKeys.Path)))
	return err
}

// sshConfigBlock is the Host block for a machine.
func sshConfigBlock(name, host, port, user, keyPath, knownHosts string) string {
	return fmt.Sprintf(`Host %s
  HostName %s
  Port %s
  User %s
  IdentityFile %s
  IdentitiesOnly yes
  UserKnownHostsFile %s
  StrictHostKeyChecking yes
  PasswordAuthentication no
  LogLevel ERROR
`, name, host, port, user, sshConfigQuote(keyPath), sshConfigQuote(knownHosts))
}

// sshConfigQuote quotes a path with spaces the way ssh_config reads it.
func sshConfigQuote(p string) string {
	if strings.ContainsAny(p, " \t") {
		return `"` + p + `"`
	}
	return p
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
