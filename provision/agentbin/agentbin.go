// Package agentbin holds the berth-agent binaries the CLI carries, one per
// machine architecture, embedded gzip-compressed by `make build`.
package agentbin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

//go:embed files
var files embed.FS

// ErrNotEmbedded means this berth was built without the agent binaries
// (a plain `go build`); `make build` embeds them.
var ErrNotEmbedded = errors.New("this berth was built without agent binaries (build it with `make build`)")

// ErrNoBuild means berth has no agent for a machine's architecture.
var ErrNoBuild = errors.New("no berth agent build for this architecture (berth ships agents for x86_64 and aarch64)")

// Binary is one agent binary, uncompressed.
type Binary struct {
	Arch   string // GOARCH: "amd64" or "arm64"
	Data   []byte
	SHA256 string // hex
}

// Size is the binary's length in bytes.
func (b *Binary) Size() int64 { return int64(len(b.Data)) }

// GoArch maps `uname -m` of a machine ("x86_64", "aarch64") to the GOARCH
// of the agent it needs.
func GoArch(unameM string) (string, error) {
	switch unameM {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64", "armv8l":
		return "arm64", nil
	}
	return "", fmt.Errorf("architecture %q: %w", unameM, ErrNoBuild)
}

// ForMachine returns the embedded agent for a machine whose `uname -m` is
// unameM.
func ForMachine(unameM string) (*Binary, error) {
	arch, err := GoArch(unameM)
	if err != nil {
		return nil, err
	}
	name := "files/berth-agent-linux-" + arch + ".gz"
	f, err := files.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("agent for %s: %w", arch, ErrNotEmbedded)
	}
	if err != nil {
		return nil, fmt.Errorf("open embedded agent for %s: %w", arch, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read embedded agent for %s: %w", arch, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("read embedded agent for %s: %w", arch, err)
	}
	return newBinary(arch, data), nil
}

// FromFile reads an uncompressed agent binary built for arch, for tests
// and for agents built outside the CLI.
func FromFile(path, arch string) (*Binary, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read agent binary: %w", err)
	}
	if !bytes.HasPrefix(data, []byte("\x7fELF")) {
		return nil, fmt.Errorf("agent binary %s is not an ELF executable", path)
	}
	return newBinary(arch, data), nil
}

func newBinary(arch string, data []byte) *Binary {
	sum := sha256.Sum256(data)
	return &Binary{Arch: arch, Data: data, SHA256: hex.EncodeToString(sum[:])}
}

// Embedded lists the architectures whose agents this berth carries.
func Embedded() []string {
	var out []string
	for _, arch := range []string{"amd64", "arm64"} {
		if _, err := fs.Stat(files, "files/berth-agent-linux-"+arch+".gz"); err == nil {
			out = append(out, arch)
		}
	}
	return out
}
