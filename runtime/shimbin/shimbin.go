// Package shimbin holds the berth-shim binary (cmd/berth-shim) that the
// agent of the same build runs as its containers' monitors, inits and exec
// helpers, embedded by `make agents` for the agent's architecture.
package shimbin

import (
	"bytes"
	"io/fs"
)

// Binary returns the embedded berth-shim when it was built as version,
// the agent's own. It returns nil when none is embedded (a plain `go
// build`) or it is of another build: the shim and the agent speak a
// protocol of their build, so the agent then runs those roles itself.
func Binary(version string) []byte {
	return binary(files, dir, version)
}

func binary(fsys fs.FS, dir, version string) []byte {
	if fsys == nil {
		return nil
	}
	built, err := fs.ReadFile(fsys, dir+"/version")
	if err != nil || string(bytes.TrimSpace(built)) != version {
		return nil
	}
	b, err := fs.ReadFile(fsys, dir+"/berth-shim")
	if err != nil || len(b) == 0 {
		return nil
	}
	return b
}
