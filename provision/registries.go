package provision

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// writeInsecureRegistries makes berthapi.InsecureRegistriesPath hold
// exactly hosts (or removes it when there are none), atomically. The agent
// reads the file at every pull, so it needs no restart.
func writeInsecureRegistries(ctx context.Context, c *sshutil.Client, g Guest, hosts []string) error {
	if len(hosts) == 0 && g.RootChecked && !g.Registries {
		return nil // Detect found no file to remove
	}
	p := berthapi.InsecureRegistriesPath
	cmd := "rm -f " + p
	if len(hosts) > 0 {
		quoted := make([]string, len(hosts))
		for i, h := range hosts {
			quoted[i] = shellQuote(h)
		}
		cmd = "printf '%s\\n' " + strings.Join(quoted, " ") + " > " + p + ".tmp && mv -f " + p + ".tmp " + p
	}
	_, err := run(ctx, c, g, "set the insecure registries", cmd)
	return err
}

// BadRegistriesError names the insecure registries that are not HOST or
// HOST:PORT.
type BadRegistriesError struct {
	Hosts []string
}

func (e *BadRegistriesError) Error() string {
	quoted := make([]string, len(e.Hosts))
	for i, h := range e.Hosts {
		quoted[i] = strconv.Quote(h)
	}
	return fmt.Sprintf("invalid --insecure-registry %s: give HOST or HOST:PORT, such as 10.0.2.2:5000 (no scheme, no path)", strings.Join(quoted, ", "))
}

// ParseInsecureRegistries checks --insecure-registry values (host or
// host:port, as docker's daemon.json takes them), trimmed of spaces, and
// names every bad one in a *BadRegistriesError. Empty values are dropped,
// so `--insecure-registry ""` means none.
func ParseInsecureRegistries(in []string) ([]string, error) {
	var out, bad []string
	for _, r := range in {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !validRegistryHost(r) {
			bad = append(bad, r)
			continue
		}
		out = append(out, r)
	}
	if len(bad) > 0 {
		return nil, &BadRegistriesError{Hosts: bad}
	}
	return out, nil
}

// validRegistryHost accepts HOST or HOST:PORT with no scheme, path or
// user, and a port in 1..65535.
func validRegistryHost(r string) bool {
	host, port := r, ""
	if h, p, err := net.SplitHostPort(r); err == nil {
		host, port = h, p
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	if host == "" || strings.ContainsAny(host, "/@ \t\n'\"\\") || strings.Contains(host, "://") {
		return false
	}
	return true
}
