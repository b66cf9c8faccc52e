package provision

import (
	"context"
	"strings"

	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// writeInsecureRegistries makes berthapi.InsecureRegistriesPath hold
// exactly hosts (or removes it when there are none), atomically. The agent
// reads the file at every pull, so it needs no restart.
func writeInsecureRegistries(ctx context.Context, c *sshutil.Client, g Guest, hosts []string) error {
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
