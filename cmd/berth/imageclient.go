package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/urfave/cli/v2"
)

// withAgent runs fn with a client of the agent of the machine -m names
// (default: the active machine).
func withAgent(c *cli.Context, fn func(ctx context.Context, d *deps, cli *client.Client) error) error {
	d, err := depsFrom(c)
	if err != nil {
		return err
	}
	name, err := d.targetMachine(c.String("machine"))
	if err != nil {
		return err
	}
	api, done, err := d.agentAPI(c.Context, name)
	if err != nil {
		return err
	}
	defer done()
	return fn(c.Context, d, api)
}

// registryAuth resolves credentials for ref's registry on this host (the
// Docker config and its credential helpers) and encodes them for
// X-Registry-Auth; "" when there are none.
func registryAuth(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", usagef("invalid image name %q: %v", ref, err)
	}
	a, err := authn.DefaultKeychain.Resolve(r.Context())
	if err != nil {
		return "", fmt.Errorf("credentials for %s: %w", r.Context().RegistryStr(), err)
	}
	if a == authn.Anonymous {
		return "", nil
	}
	cfg, err := a.Authorization()
	if err != nil {
		return "", fmt.Errorf("credentials for %s: %w", r.Context().RegistryStr(), err)
	}
	b, err := json.Marshal(map[string]string{
		"username": cfg.Username, "password": cfg.Password, "auth": cfg.Auth,
		"identitytoken": cfg.IdentityToken, "registrytoken": cfg.RegistryToken,
		"serveraddress": r.Context().RegistryStr(),
	})
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// showProgress renders a pull or load progress stream: per-layer lines
// redrawn in place on a terminal (like docker), one line per layer when
// piped. An error message in the stream is returned.
func showProgress(in io.Reader, out io.Writer) error {
	if f, ok := out.(*os.File); ok && isTerminal(out) {
		return jsonmessage.DisplayJSONMessagesStream(in, out, f.Fd(), true, nil)
	}
	return jsonmessage.DisplayStream(in, out, jsonmessage.WithMessagePrinter(printFinalLines))
}

// layerSteps are the in-between states of a layer that a piped output
// leaves out, keeping one line per layer.
var layerSteps = map[string]bool{
	"Pulling fs layer": true, "Waiting": true, "Downloading": true, "Verifying Checksum": true,
	"Download complete": true, "Extracting": true,
}

func printFinalLines(m jsonstream.Message, out io.Writer) error {
	if m.Error != nil {
		return m.Error
	}
	if m.Stream != "" {
		_, err := io.WriteString(out, m.Stream)
		return err
	}
	if layerSteps[m.Status] || m.Status == "Loading layer" && (m.Progress == nil || m.Progress.Current < m.Progress.Total) {
		return nil
	}
	line := m.Status
	if m.ID != "" {
		line = m.ID + ": " + line
	}
	_, err := fmt.Fprintln(out, strings.TrimRight(line, "\n"))
	return err
}
