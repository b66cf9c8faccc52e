package provision

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/berthvm/berth/provision/agentbin"
	"github.com/berthvm/berth/runtime/berthapi"
	"github.com/berthvm/berth/sshutil"
)

// newPath is where the agent is put together next to its final name, so
// that the last step is a rename on the same filesystem.
var newPath = path.Join(path.Dir(berthapi.AgentPath), ".berth-agent.new")

// uploadChunk is how much is written between progress reports.
const uploadChunk = 256 << 10

// sumPath is the installed agent's SHA-256, written after the agent by
// provisioning and by berth-os when it installs the agent its CD ships:
// hashing the agent in a machine under software emulation takes a second
// or more. A binary newer than it (replaced by hand) is hashed again.
var sumPath = berthapi.AgentPath + ".sha256"

// agentSumScript prints the installed agent's SHA-256 (first field): the
// one recorded beside it when not older than the agent, else computed;
// nothing when there is no agent.
var agentSumScript = "if [ -f " + berthapi.AgentPath + " ]; then if [ -s " + sumPath + " ] && [ ! " + berthapi.AgentPath + " -nt " + sumPath + " ]; then cat " + sumPath + "; else sha256sum " + berthapi.AgentPath + "; fi; fi"

// remoteSHA256 returns the SHA-256 of the installed agent, or "" when
// there is none.
func remoteSHA256(ctx context.Context, c *sshutil.Client, g Guest) (string, error) {
	if g.RootChecked {
		return g.AgentSHA256, nil // Detect read it
	}
	out, err := run(ctx, c, g, "read the installed agent's checksum", agentSumScript)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", nil
	}
	return f[0], nil
}

// upload puts bin in place of the agent: SFTP to a temporary name,
// SHA-256 checked on the machine, a trial run, chmod, rename. An upload
// cut off midway leaves the installed agent as it was. It returns the new
// agent's version.
func upload(ctx context.Context, c *sshutil.Client, g Guest, bin *agentbin.Binary, progress func(sent, total int64)) (string, error) {
	dir := path.Dir(berthapi.AgentPath)
	if _, err := run(ctx, c, g, "make the agent folder", "mkdir -p "+dir+" && chmod 0755 "+dir+" && rm -f "+newPath); err != nil {
		return "", err
	}
	// Root writes next to the agent; other users write a private file in
	// /tmp that root copies (and checks) after.
	dst := newPath
	if !g.Root {
		var r [8]byte
		_, _ = rand.Read(r[:])
		dst = "/tmp/.berth-agent-" + hex.EncodeToString(r[:])
	}
	if err := sftpWrite(ctx, c, dst, bin.Data, progress); err != nil {
		return "", err
	}
	script := `set -e
new=` + newPath + `
src=` + dst + `
if [ "$src" != "$new" ]; then cp "$src" "$new"; rm -f "$src"; fi
sum=$(sha256sum "$new" | cut -d' ' -f1)
if [ "$sum" != "` + bin.SHA256 + `" ]; then
  rm -f "$new"
  echo "the uploaded agent has sha256 $sum, expected ` + bin.SHA256 + `" >&2
  exit 65
fi
chmod 0755 "$new"
if ! ver=$("$new" version 2>&1); then
  rm -f "$new"
  echo "the uploaded agent does not run on this machine: $ver" >&2
  exit 66
fi
mv -f "$new" ` + berthapi.AgentPath + `
echo "$sum  berth-agent" > ` + sumPath + `.tmp && mv -f ` + sumPath + `.tmp ` + sumPath + `
echo "$ver"`
	out, err := c.Output(ctx, g.asRoot(script))
	if err != nil {
		if !g.Root {
			_, _ = c.CombinedOutput(context.WithoutCancel(ctx), "rm -f "+dst)
		}
		return "", fmt.Errorf("install the uploaded agent: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// sftpWrite writes data to the new file name over SFTP, stopping when ctx
// ends.
func sftpWrite(ctx context.Context, c *sshutil.Client, name string, data []byte, progress func(sent, total int64)) error {
	sc, err := c.SFTP(ctx)
	if err != nil {
		return fmt.Errorf("upload the agent: %w", err)
	}
	f, err := sc.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("upload the agent: create %s: %w", name, err)
	}
	total := int64(len(data))
	for off := int64(0); off < total; {
		if err := ctx.Err(); err != nil {
			f.Close()
			return fmt.Errorf("upload the agent: %w", err)
		}
		end := min(off+uploadChunk, total)
		if _, err := f.Write(data[off:end]); err != nil {
			f.Close()
			return fmt.Errorf("upload the agent: write %s: %w", name, err)
		}
		off = end
		if progress != nil {
			progress(off, total)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("upload the agent: close %s: %w", name, err)
	}
	return nil
}
